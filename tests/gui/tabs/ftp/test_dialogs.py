"""The text viewer, the non-modal overwrite question and the options dialog."""

from __future__ import annotations

from gui.tabs.ftp.dialogs import OPTION_ROWS, FtpOptionsDialog, OverwriteDialog, TextViewer


def test_text_viewer_shows_text_and_truncation(app):
    viewer = TextViewer(app.root, "/readme.txt", "line 1\n" + "x" * 100_000 + "\n", True)
    try:
        app.root.update()
        text = viewer.view.get_text()
        assert text.startswith("line 1\n") and len(text) > 100_000
        assert viewer.title() == "/readme.txt"
    finally:
        viewer.destroy()


def test_overwrite_dialog_reports_choice_and_for_all(app):
    answers: list[tuple[str, bool]] = []
    dialog = OverwriteDialog(app.root, "a.bin", 10, 20, lambda c, a: answers.append((c, a)))
    dialog.all_var.set(True)
    dialog.answer("resume")
    del dialog
    assert answers == [("resume", True)]
    closing = OverwriteDialog(app.root, "b.bin", None, None,
                              lambda c, a: answers.append((c, a)))
    closing.tk.eval(closing.protocol("WM_DELETE_WINDOW"))  # the close box means skip
    assert answers[-1] == ("skip", False)


def test_options_dialog_edits_the_tabs_fields_and_names_the_first_bad_one(app, tab):
    dialog = FtpOptionsDialog(tab)
    try:
        assert list(dialog.entries) == [name for name, _attr, _help in OPTION_ROWS]
        dialog.entries["Keepalive"].delete(0, "end")
        dialog.entries["Keepalive"].insert(0, "45")
        assert tab.keepalive_var.get() == "45"  # the field lives in the tab
        tab.folder_limit_var.set("many")
        assert dialog.apply() is False and dialog.winfo_exists()
        assert dialog.message.get() == ("⚠ Folder entry limit must be a whole number from 1 "
                                        "to 10,000,000 entries, got 'many'.")
        tab.folder_limit_var.set("100")
        assert dialog.apply() is True and not dialog.winfo_exists()
    finally:
        if dialog.winfo_exists():
            dialog.destroy()
