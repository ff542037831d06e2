from __future__ import annotations

import tkinter as tk

import pytest

from gui.widgets.logview import LogView


@pytest.fixture
def view(app):
    top = tk.Toplevel(app.root)
    log = LogView(top, max_lines=100, wrap_at=1000, tags={"in": {"foreground": "blue"}})
    log.pack(fill="both", expand=True)
    yield log
    top.destroy()


def test_lines_are_capped_to_the_newest(view: LogView) -> None:
    view.append_many((f"line {i}", "in") for i in range(250))
    lines = view.get_text().splitlines()
    assert len(lines) == 100 and view.line_count() == 100
    assert lines[0] == "line 150" and lines[-1] == "line 249"
    assert "in" in view.text.tag_names("end-2c")


def test_a_megabyte_line_is_split_and_kept_whole(view: LogView) -> None:
    view.max_lines = 5000
    big = "".join(chr(65 + i % 26) for i in range(1_000_000))
    view.append(big)
    lines = view.get_text().splitlines()
    assert len(lines) == 1000 and all(len(x) == 1000 for x in lines)
    assert "".join(lines) == big
    assert view.text.cget("wrap") == "none"


def test_find_highlights_every_match(view: LogView) -> None:
    view.append_many([("alpha beta", ""), ("beta gamma", ""), ("delta", "")])
    assert view.find("BETA") == 2
    assert len(view.text.tag_ranges("found")) == 4
    assert view.find("zeta") == 0
    view.clear()
    assert view.get_text() == "" and view.line_count() == 0


# A child process runs the app's Find: Tk 8.6's nocase search segfaulted on non-BMP text,
# which would take the whole test session down with it.
_FIND_IN_SOCKET_TAB = r"""
import os, tempfile, tkinter as tk
home = tempfile.mkdtemp()
os.environ["WIREBENCH_CONFIG_DIR"] = os.path.join(home, "c")
os.environ["WIREBENCH_DATA_DIR"] = os.path.join(home, "d")
from gui.app import WirebenchApp
root = tk.Tk(className="Wirebench")
app = WirebenchApp(root, lab_ephemeral=True)
tab = app.tab("socket")
app.select_tab(0)
root.update()
tab.view.append_many([("data \U0001F600 then Beta \U0001F40D beta", ""), ("BETA", "")])
tab.find_entry.focus_force()
tab.find_entry.insert(0, "beta")
tab.find_entry.event_generate("<Return>")
root.update()
found = tab.view.text.tag_ranges("found")
spans = [tab.view.text.get(a, b) for a, b in zip(found[::2], found[1::2])]
print("matches", len(spans), spans)
app.close()
"""


def test_find_on_text_with_emoji_survives_and_marks_the_right_spans() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", _FIND_IN_SOCKET_TAB], cwd=root,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, f"Find crashed the app (rc {done.returncode}): {done.stderr}"
    assert "matches 3 ['Beta', 'beta', 'BETA']" in done.stdout


def test_find_is_case_sensitive_when_asked(view: LogView) -> None:
    view.append_many([("x \U0001F600 Beta beta", "")])
    assert view.find("beta", nocase=False) == 1
    start, end = view.text.tag_ranges("found")
    assert view.text.get(start, end) == "beta"
