"""A Canvas sparkline: a few series over the last minute, one strip each.

Each strip shows its name, the latest value and the peak of the window, and a
filled polyline scaled to that peak. Redraws are coalesced to one per idle moment,
so pushing a sample per second per series costs nothing noticeable.
"""

from __future__ import annotations

import tkinter as tk
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    fmt: Callable[[float], str] = lambda v: f"{v:g}"


class Sparkline(tk.Canvas):
    def __init__(self, master: tk.Misc, series: Sequence[Series], points: int = 60,
                 height: int = 110, **kwargs) -> None:
        super().__init__(master, height=height, highlightthickness=0, borderwidth=0,
                         **kwargs)
        self.series = list(series)
        self.points = points
        self.values: dict[str, deque[float]] = {
            s.name: deque(maxlen=points) for s in self.series}
        self._pending = False
        self.bind("<Configure>", lambda e: self._schedule())

    # -- data ---------------------------------------------------------------------------
    def push(self, sample: Mapping[str, float]) -> None:
        """Add one sample (name -> value); series missing from it repeat their last."""
        for s in self.series:
            values = self.values[s.name]
            values.append(float(sample.get(s.name, values[-1] if values else 0.0)))
        self._schedule()

    def load(self, history: Mapping[str, Iterable[float]]) -> None:
        """Replace every series (e.g. when another server is selected)."""
        for s in self.series:
            self.values[s.name] = deque(history.get(s.name, ()), maxlen=self.points)
        self._schedule()

    def clear(self) -> None:
        self.load({})

    def latest(self, name: str) -> float:
        values = self.values[name]
        return values[-1] if values else 0.0

    # -- drawing ------------------------------------------------------------------------
    def _schedule(self) -> None:
        if not self._pending:
            self._pending = True
            self.after_idle(self._redraw)

    def _redraw(self) -> None:
        self._pending = False
        self.delete("all")
        width = max(self.winfo_width(), 40)
        height = max(self.winfo_height(), 20)
        strip = height / max(len(self.series), 1)
        fg = _text_color(self)
        for index, s in enumerate(self.series):
            top = index * strip
            self._draw_strip(s, top + 2, top + strip - 2, width, fg)
        self.create_text(width - 4, height - 2, text=f"last {self.points} s", anchor="se",
                         fill="#888", font=("TkSmallCaptionFont", 8))

    def _draw_strip(self, s: Series, top: float, bottom: float, width: float,
                    fg: str) -> None:
        values = list(self.values[s.name])
        peak = max(values, default=0.0)
        label = f"{s.name}: {s.fmt(values[-1] if values else 0.0)}  (peak {s.fmt(peak)})"
        self.create_line(0, bottom, width, bottom, fill="#999999")
        plot_top = top + 16
        if len(values) >= 2 and peak > 0:
            step = width / (self.points - 1)
            x0 = width - step * (len(values) - 1)
            scale = (bottom - plot_top) / peak
            coords: list[float] = []
            for i, v in enumerate(values):
                coords += [x0 + i * step, bottom - v * scale]
            # stippled fill reads on the light and the dark theme alike
            self.create_polygon(coords[0], bottom, *coords, coords[-2], bottom,
                                fill=s.color, stipple="gray25", outline="")
            self.create_line(*coords, fill=s.color, width=2)
        self.create_text(4, top, text=label, anchor="nw", fill=fg, font=("TkDefaultFont", 9))


def _text_color(widget: tk.Misc) -> str:
    try:
        from tkinter import ttk

        return ttk.Style(widget).lookup("TLabel", "foreground") or "#222"
    except tk.TclError:
        return "#222"
