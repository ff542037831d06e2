"""The rules of the layout: core/ never imports tkinter or gui, and no protocol package in
core/ imports another (shared modules sit at core/ top level); no module in core/ or gui/ is
over 500 lines."""

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


#: the protocol packages of core/; each may import core's top-level modules (events,
#: errors, worker, recording, …) and itself, never another of these
PROTOCOL_PACKAGES = ("sockets", "lookup", "telnet", "ftp", "smtp", "servers", "codegen")
#: (module, package it may import anyway) with the reason. The echo server's
#: ``--print-code`` renders its own recording through codegen, the one renderer of
#: "Show as Python"; codegen itself reads only core.recording, so no cycle follows.
ALLOWED_CROSSINGS = {("core/servers/echo/server.py", "codegen")}


def _crossings() -> set[tuple[str, str]]:
    found = set()
    for package in PROTOCOL_PACKAGES:
        for path in (CORE / package).rglob("*.py"):
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] == "core" and len(parts) > 1 and parts[1] in PROTOCOL_PACKAGES \
                        and parts[1] != package:
                    found.add((path.relative_to(CORE.parent).as_posix(), parts[1]))
    return found


def test_no_protocol_package_imports_another() -> None:
    crossings = _crossings()
    assert crossings - ALLOWED_CROSSINGS == set(), (
        "a protocol package imports another: move what both need to a module at core/ "
        "top level")
    # an exception that no longer exists is dropped here, so the list never hides a new one
    assert crossings >= ALLOWED_CROSSINGS


def test_protocol_packages_use_absolute_imports_the_walk_sees() -> None:
    relative = [
        path.relative_to(CORE.parent).as_posix()
        for package in PROTOCOL_PACKAGES
        for path in (CORE / package).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


TK_CALLS = {"after", "after_idle", "event_generate", "createfilehandler", "tk"}


def test_core_reaches_the_gui_only_through_the_outbox_hook() -> None:
    """Core threads never call into Tk; the one wake-up is ``Outbox.notify``
    (core/worker.py), which gui/bridge.py sets. No other notify hook or sink exists."""
    offenders: list[str] = []
    for path in CORE.rglob("*.py"):
        where = path.relative_to(CORE.parent)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in TK_CALLS:
                offenders.append(f"{where}:{node.lineno} calls {node.func.attr}")
            stored = (node.attr if isinstance(node, ast.Attribute)
                      and isinstance(node.ctx, ast.Store) else
                      node.target.id if isinstance(node, ast.AnnAssign)
                      and isinstance(node.target, ast.Name) else "")
            if stored in ("notify", "frame_sink") and where != Path("core/worker.py"):
                offenders.append(f"{where}:{node.lineno} sets {stored}")
    assert offenders == []


MAX_MODULE_LINES = 500


def test_no_source_module_is_over_500_lines() -> None:
    """Small modules: a module that grows past the cap is split along its sections."""
    root = CORE.parent
    long = {str(path.relative_to(root)): lines
            for package in ("core", "gui") for path in sorted((root / package).rglob("*.py"))
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them): {long}"
