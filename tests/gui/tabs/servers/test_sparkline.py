"""The sparkline widget: bounded history, drawing, formatting."""

from __future__ import annotations

from core.sizes import human_rate
from gui.tabs.servers.sparkline import Series, Sparkline


def test_keeps_only_the_window_and_draws(app) -> None:
    plot = Sparkline(app.root, (Series("A", "#2e86de"), Series("B", "#e67e22", human_rate)),
                     points=10, height=80, width=300)
    plot.pack()
    try:
        for i in range(25):
            plot.push({"A": i, "B": i * 1000})
        assert list(plot.values["A"]) == [float(v) for v in range(15, 25)]
        plot.push({"A": 99})  # B repeats its last value
        assert plot.latest("B") == 24000
        app.root.update()
        texts = [plot.itemcget(i, "text") for i in plot.find_all()
                 if plot.type(i) == "text"]
        assert "A: 99  (peak 99)" in texts
        assert "B: 23.4 KiB/s  (peak 23.4 KiB/s)" in texts
        assert sum(1 for i in plot.find_all() if plot.type(i) == "line") >= 4
        plot.load({"A": [1, 2]})
        assert plot.latest("A") == 2 and plot.latest("B") == 0
        plot.clear()
        app.root.update()
        assert plot.latest("A") == 0
    finally:
        plot.destroy()
