"""PyInstaller runtime hook of the frozen build (see build.spec): runs before the app.

PyInstaller's own hooks for ``multiprocessing``, ``pkgutil`` and ``inspect`` import those
modules at every start (~30 ms together) though Wirebench itself uses none of them;
build.spec drops them and this hook keeps what a frozen run can need: a multiprocessing
helper started by a user's script (``wirebench --run-python``) with the spawn or
forkserver method re-runs this executable, and must run the helper, not the app. The
check reads ``sys.argv`` only; ``multiprocessing`` is imported just for such a helper.
From source (not frozen) importing this module does nothing.
"""

import sys

_HELPER_COMMANDS = ("from multiprocessing.resource_tracker import main",
                    "from multiprocessing.forkserver import main",
                    "import sys; from multiprocessing.forkserver import main")


def divert_multiprocessing_helper(argv: list[str]) -> None:
    """Run a multiprocessing helper or spawned worker that re-ran this executable."""
    if "-c" in argv[1:]:
        index = argv.index("-c")
        if index + 1 < len(argv) and argv[index + 1].startswith(_HELPER_COMMANDS):
            import multiprocessing.process

            multiprocessing.process.ORIGINAL_DIR = None
            exec(argv[index + 1])  # noqa: S102 - the command multiprocessing itself built
            sys.exit()
    if len(argv) >= 2 and argv[1] == "--multiprocessing-fork":
        import multiprocessing.process
        import multiprocessing.spawn

        multiprocessing.process.ORIGINAL_DIR = None
        kwds = {}
        for arg in argv[2:]:
            name, value = arg.split("=")
            kwds[name] = None if value == "None" else int(value)
        multiprocessing.spawn.spawn_main(**kwds)
        sys.exit()


if getattr(sys, "frozen", False):
    divert_multiprocessing_helper(sys.argv)
