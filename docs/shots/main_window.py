"""docs/screenshot.png: the main window with its six tabs."""

from common import capture, launch  # type: ignore[import-not-found]

app = launch()
app.select_tab(0)
print(capture(app.root, "screenshot"))
app.close()
