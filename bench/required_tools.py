"""Find the outside tools a benchmark compares against, or stop with one clear sentence.

Benchmarks are run as ``.venv/bin/python bench/x.py`` without the venv activated, so a
tool installed into the venv (PyInstaller) is not on PATH: Python tools are run through
the running interpreter (``sys.executable -m``), system tools are looked up on PATH and in
the sbin folders (which a non-root PATH often lacks).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys

SBIN_FOLDERS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def find_tool(name: str) -> str | None:
    """Absolute path of ``name`` on PATH or in an sbin folder, or None."""
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN_FOLDERS:
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def require_tool(name: str, debian_package: str, role: str = "the reference") -> str:
    """Path of ``name``; exits with a message naming the package to install when missing."""
    found = find_tool(name)
    if found is None:
        raise SystemExit(f"{name} is not installed, so {role} cannot run: "
                         f"install it with 'apt-get install {debian_package}'.")
    return found


def missing_tool_note(name: str, debian_package: str) -> str:
    """One sentence for a bench that can still run part of itself without ``name``."""
    return f"{name} is not installed (apt-get install {debian_package})"


def python_module_command(module: str, extra: str) -> list[str]:
    """``[sys.executable, -m, module]``; exits naming the pip extra when it is missing."""
    if importlib.util.find_spec(module) is None:
        raise SystemExit(f"{module} is not installed in {sys.executable}'s environment: "
                         f"install the '{extra}' extra with "
                         f"'{sys.executable} -m pip install -e .[{extra}]'.")
    return [sys.executable, "-m", module]
