"""Where Wirebench finds its assets and keeps its settings and data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "wirebench"


def assets_dir() -> Path:
    """The ``assets/`` folder: beside the frozen executable, or the installed package."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "assets"
    import assets

    return Path(assets.__file__).resolve().parent


def asset(*parts: str) -> Path:
    return assets_dir().joinpath(*parts)


def _user_dir(override_variable: str, kind: str) -> Path:
    """The folder ``override_variable`` names, else platformdirs' user ``kind`` folder
    (``config`` or ``data``); created if missing. platformdirs loads only when asked."""
    override = os.environ.get(override_variable)
    if override:
        path = Path(override)
    else:
        import platformdirs

        find = platformdirs.user_config_dir if kind == "config" else platformdirs.user_data_dir
        path = Path(find(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Settings folder; ``WIREBENCH_CONFIG_DIR`` overrides it (tests use a temp dir)."""
    return _user_dir("WIREBENCH_CONFIG_DIR", "config")


def data_dir() -> Path:
    """Data folder (drafts, logs, form submissions); ``WIREBENCH_DATA_DIR`` overrides it."""
    return _user_dir("WIREBENCH_DATA_DIR", "data")


def python_command() -> list[str]:
    """The command that runs a Python script with the app's own interpreter.

    Frozen builds have no python executable; the app itself runs scripts when given
    ``--run-python`` (see ``gui/cli.py``).
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, "--run-python"]
    return [sys.executable]
