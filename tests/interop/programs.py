"""Finding a third-party peer program; a missing one fails the test, it never skips."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def peer_program(name: str) -> str:
    """The program's path (PATH, then /usr/sbin and /sbin), or fail naming the fix."""
    found = shutil.which(name) or next(
        (str(Path(d) / name) for d in ("/usr/sbin", "/sbin") if (Path(d) / name).exists()),
        None)
    if found is None:
        pytest.fail(f"interop peer {name!r} is not installed: run `bash .ci/setup.sh --test`")
    return found
