"""One way to show a byte count: IEC binary units, as FileZilla shows them by default.

``1536`` -> ``"1.5 KiB"``: powers of 1024 with the unit names that say so (KiB, MiB, …),
so a size never means two things across the tabs (FTP, SMTP, Socket, Servers).
"""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: float | None) -> str:
    """``512`` -> ``"512 B"``, ``3 * 1024**2`` -> ``"3.0 MiB"``; None (unknown) -> ``""``."""
    if size is None:
        return ""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable: the last unit always returns")


def human_rate(bytes_per_second: float) -> str:
    """``1536`` -> ``"1.5 KiB/s"``."""
    return f"{human_size(bytes_per_second)}/s"
