"""The one rule: core/ never imports tkinter or gui."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import core

CORE = Path(core.__file__).resolve().parent
FORBIDDEN = ("tkinter", "_tkinter", "gui")
REMOVED_STDLIB = ("telnetlib", "cgi", "cgitb", "asyncore", "asynchat", "smtpd")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_no_core_file_imports_tkinter_or_gui() -> None:
    offenders = [
        f"{path.relative_to(CORE.parent)} imports {name}"
        for path in CORE.rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []


def test_no_module_removed_from_newer_pythons_is_used() -> None:
    root = CORE.parent
    offenders = [
        f"{path.relative_to(root)} imports {name}"
        for folder in ("core", "gui")
        for path in (root / folder).rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in REMOVED_STDLIB
    ]
    assert offenders == []


def test_importing_every_core_module_leaves_tkinter_out() -> None:
    modules = [m.name for m in pkgutil.walk_packages([str(CORE)], prefix="core.")]
    assert "core.events" in modules and "core.worker" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tkinter', '_tkinter', 'gui')]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=CORE.parent,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_walk_would_catch_an_offender(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom tkinter import ttk\n")
    assert "tkinter" in _imports(bad)
    importlib.invalidate_caches()
