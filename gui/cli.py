"""The ``wirebench`` command. Imports tkinter only when a window is asked for."""

from __future__ import annotations

import sys

from core.version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def _run_python(argv: list[str]) -> int:
    """Run a Python script as ``python SCRIPT ARGS`` would (frozen builds have no python)."""
    if not argv:
        print("usage: wirebench --run-python SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    import runpy

    sys.argv = list(argv)
    try:
        runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="wirebench",
        description="A workbench for exploring network protocols by hand.",
        epilog="Run 'wirebench serve --help' for the headless servers.",
    )
    parser.add_argument("--version", action="version", version=f"wirebench {__version__}")
    parser.add_argument("--lab", action="store_true",
                        help="start every lab peer on 127.0.0.1 and open the window")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, visit every tab, start/stop every lab peer, exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--run-python"]:
        return _run_python(argv[1:])
    if not argv:  # the common start: no parser (argparse and gettext cost ~5 ms)
        from gui.app import run_app

        return run_app()
    if argv[:1] == ["serve"]:
        import argparse

        from core.servers.serve import build_parser as build_serve
        from core.servers.serve import run

        serve = argparse.ArgumentParser(
            prog="wirebench serve",
            description="Run Wirebench's embedded servers headless until Ctrl+C or SIGTERM.")
        build_serve(serve)
        return run(serve.parse_args(argv[1:]))
    args = build_parser().parse_args(argv)
    from gui.app import run_app

    return run_app(lab=args.lab, self_test=args.self_test)


if __name__ == "__main__":
    sys.exit(main())
