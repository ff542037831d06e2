"""The one byte-size formatter: IEC units, rounding, unknown sizes, rates."""

from __future__ import annotations

import pytest

from core.sizes import human_rate, human_size


@pytest.mark.parametrize(("size", "shown"), [
    (None, ""),
    (0, "0 B"),
    (512, "512 B"),
    (1023, "1023 B"),
    (1024, "1.0 KiB"),
    (1536, "1.5 KiB"),
    (3 * 1024 ** 2, "3.0 MiB"),
    (25 * 1024 ** 2 + 1, "25.0 MiB"),
    (5 * 1024 ** 4, "5.0 TiB"),
    (3 * 1024 ** 6, "3072.0 PiB"),
    (-2048, "-2.0 KiB"),
    (1536.7, "1.5 KiB"),
])
def test_human_size(size: float | None, shown: str) -> None:
    assert human_size(size) == shown


def test_human_rate() -> None:
    assert human_rate(12) == "12 B/s"
    assert human_rate(1_234_567) == "1.2 MiB/s"
