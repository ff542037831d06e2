"""What the lab telnet shell prints: a coloured ``ls -lR`` stream and a colour demo.

Deterministic per seed, so the terminal bench and the tests see the same bytes each run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

_NAMES = ("alpha", "beta", "gamma", "delta", "kernel", "notes", "report", "backup",
          "photo", "index", "config", "server", "client", "module", "draft", "archive")
_EXTS = (".txt", ".py", ".c", ".tar.gz", ".png", ".md", ".sh", ".json", "", ".log")


def _ls_entry(rng: random.Random, n: int) -> str:
    kind = rng.random()
    name = f"{rng.choice(_NAMES)}_{n}{rng.choice(_EXTS)}"
    size = rng.randint(0, 9_999_999)
    day = rng.randint(1, 28)
    when = f"Nov {day:2d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    if kind < 0.15:
        return f"drwxr-xr-x  2 lab lab {4096:>8} {when} \x1b[1;34m{name}\x1b[0m"
    if kind < 0.25:
        return f"-rwxr-xr-x  1 lab lab {size:>8} {when} \x1b[1;32m{name}\x1b[0m"
    if kind < 0.32:
        return (f"lrwxrwxrwx  1 lab lab {12:>8} {when} \x1b[1;36m{name}\x1b[0m -> "
                f"\x1b[38;5;{rng.randint(16, 231)}m../target_{n}\x1b[0m")
    if name.endswith((".tar.gz", ".png")):
        return f"-rw-r--r--  1 lab lab {size:>8} {when} \x1b[1;31m{name}\x1b[0m"
    return f"-rw-r--r--  1 lab lab {size:>8} {when} {name}"


def ls_lr_lines(count: int, seed: int = 1) -> Iterator[str]:
    """``count`` lines of a coloured ``ls -lR``-style listing (deterministic per seed)."""
    rng = random.Random(seed)
    n = 0
    folder = 0
    while n < count:
        if n % 40 == 0:
            folder += 1
            header = f"\x1b[1;34m./src/module_{folder}\x1b[0m:"
            for line in ("", header, f"total {rng.randint(8, 900)}"):
                if n >= count:
                    return
                yield line
                n += 1
            continue
        yield _ls_entry(rng, n)
        n += 1


def ls_listing() -> list[str]:
    rng = random.Random(7)
    return [f"total {len(_NAMES) * 4}"] + [_ls_entry(rng, i) for i in range(16)]


def color_demo() -> list[str]:
    lines = ["\x1b[1m16 colours\x1b[0m"]
    lines.append("".join(f"\x1b[{30 + i}m fg{i} \x1b[0m" for i in range(8)))
    lines.append("".join(f"\x1b[{90 + i}m br{i} \x1b[0m" for i in range(8)))
    lines.append("".join(f"\x1b[{40 + i};97m bg{i} \x1b[0m" for i in range(8)))
    lines.append("\x1b[1m256 colours\x1b[0m")
    for row in range(6):
        lines.append("".join(f"\x1b[48;5;{16 + row * 36 + c}m  " for c in range(36)) + "\x1b[0m")
    lines.append("".join(f"\x1b[48;5;{232 + g}m   " for g in range(24)) + "\x1b[0m")
    lines.append("\x1b[1mtrue colour\x1b[0m")
    lines.append("".join(
        f"\x1b[48;2;{int(255 * i / 71)};{int(255 * (1 - abs(i - 35) / 36))};"
        f"{255 - int(255 * i / 71)}m " for i in range(72)) + "\x1b[0m")
    lines.append("\x1b[1mbold\x1b[0m  \x1b[4munderline\x1b[0m  \x1b[7mreverse\x1b[0m  "
                 "\x1b[3mitalic\x1b[0m  \x1b[9mstrike\x1b[0m  "
                 "\x1b[1;4;38;2;255;128;0mbold underlined orange\x1b[0m")
    return lines
