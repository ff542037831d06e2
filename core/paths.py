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


def config_dir() -> Path:
    """Settings folder; ``WIREBENCH_CONFIG_DIR`` overrides it (tests use a temp dir)."""
    override = os.environ.get("WIREBENCH_CONFIG_DIR")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_config_dir

        path = Path(user_config_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Data folder (drafts, logs, form submissions); ``WIREBENCH_DATA_DIR`` overrides it."""
    override = os.environ.get("WIREBENCH_DATA_DIR")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def python_command() -> list[str]:
    """The command that runs a Python script with the app's own interpreter.

    Frozen builds have no python executable; the app itself runs scripts when given
    ``--run-python`` (see ``gui/cli.py``).
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, "--run-python"]
    return [sys.executable]
