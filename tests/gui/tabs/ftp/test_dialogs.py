"""The text viewer and the non-modal overwrite question."""

from __future__ import annotations

from gui.tabs.ftp.dialogs import OverwriteDialog, TextViewer


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
