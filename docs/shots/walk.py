"""Walk every tab with the lab running, at 1366x768 and at 1024x700, and screenshot each.

Run under Xvfb with a 1366x768 screen (the small laptop the app must fit)::

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/shots/walk.py [--out DIR]

The first pass lets the app choose its own first-launch size (no saved geometry), so it
shows what a new user sees; the second sets the window to 1024x700. In each tab the
walk presses the tab's "Lab" button when it has one, so the shot shows the lab peer's
fields filled in. Files: ``DIR/walk-<size>-<n>-<tab>.png`` (default DIR: /tmp/wirebench-walk).
"""

import argparse
from pathlib import Path

from common import capture, launch, pump  # type: ignore[import-not-found]

from gui.app import TABS


def start_lab(app) -> None:  # noqa: ANN001
    started: dict[str, dict] = {}
    app.start_lab(done=lambda errors: started.setdefault("errors", errors))
    pump(app.root, 30, until=lambda: "errors" in started)
    if started.get("errors"):
        print("lab peers failed:", started["errors"])


def walk(size: str, geometry: str | None, out: Path) -> None:
    app = launch(geometry=geometry)
    start_lab(app)
    for index, (_module, _cls, _title, key) in enumerate(TABS):
        app.select_tab(index)
        tab = app.tab(key)
        pump(app.root, 0.3)
        use_lab = getattr(tab, "use_lab", None)
        if use_lab is not None:
            use_lab()
            pump(app.root, 0.5)
        name = f"walk-{size}-{index + 1}-{key}"
        print(capture(app.root, name, folder=out), app.root.wm_geometry())
    app.close()


parser = argparse.ArgumentParser()
parser.add_argument("--out", type=Path, default=Path("/tmp/wirebench-walk"))
args = parser.parse_args()
args.out.mkdir(parents=True, exist_ok=True)
walk("1366x768", None, args.out)  # the size a first launch picks on this screen
walk("1024x700", "1024x700+0+0", args.out)
