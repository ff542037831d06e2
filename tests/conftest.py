"""Shared fixtures: one real app for GUI tests, Tk callback errors fail the test,
``wait_until`` pumps the event loop, and a leak check on threads.

Real peers for each area live in tests/fixtures/<area>.py and are loaded here.
"""

from __future__ import annotations

import gc
import os
import tempfile
import threading
from collections.abc import Callable, Iterator

import pytest

from tests.fixtures.waiting import EventCollector, wait_for

# settings and data of the tests never touch the user's own
_TMP_HOME = tempfile.mkdtemp(prefix="wirebench-tests-")
os.environ.setdefault("WIREBENCH_CONFIG_DIR", os.path.join(_TMP_HOME, "config"))
os.environ.setdefault("WIREBENCH_DATA_DIR", os.path.join(_TMP_HOME, "data"))

pytest_plugins = [
    "tests.fixtures.socket_peers",
    "tests.fixtures.server_peers",
    "tests.fixtures.lookup_peers",
    "tests.fixtures.telnet_peers",
    "tests.fixtures.ftp_peers",
    "tests.fixtures.smtp_peers",
    "tests.fixtures.daemon_peers",
]


def _live_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


@pytest.fixture(autouse=True)
def collect_on_main_thread() -> Iterator[None]:
    """Garbage from a test is collected here, on the main thread, never on a worker.

    A Tk object freed by a collection that runs on another thread aborts the process
    ("Tcl_AsyncDelete: async handler deleted by the wrong thread").
    """
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def no_thread_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Threads a test starts must be gone when it ends (a short grace period allowed)."""
    before = _live_threads()
    yield
    if "allow_thread_leaks" in request.keywords:
        return
    def leaked() -> list[str]:
        return sorted(t.name for t in _live_threads() - before
                      if not t.name.startswith(("asyncio_", "ThreadPoolExecutor", "wb-keep")))

    try:
        wait_for(lambda: not leaked(), 3.0, interval=0.05)
    except AssertionError:
        pytest.fail(f"threads left running: {leaked()}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_thread_leaks: the test hands threads to a "
                            "session-scoped fixture on purpose")


# -- GUI ------------------------------------------------------------------------------
class TkErrors:
    def __init__(self) -> None:
        self.errors: list[str] = []


_tk_errors = TkErrors()


@pytest.fixture(scope="session")
def app():  # -> gui.app.WirebenchApp
    """One real Wirebench window for every GUI test (as Porcupine does)."""
    import tkinter as tk
    import traceback

    from gui.app import WirebenchApp

    root = tk.Tk(className="Wirebench")

    def report(exc, val, tb) -> None:
        _tk_errors.errors.append("".join(traceback.format_exception(exc, val, tb)))

    root.report_callback_exception = report
    application = WirebenchApp(root, lab_ephemeral=True)
    root.update()
    yield application
    application.close()


@pytest.fixture(autouse=True)
def fail_on_tk_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    _tk_errors.errors.clear()
    yield
    if _tk_errors.errors:
        errors, _tk_errors.errors = list(_tk_errors.errors), []
        pytest.fail("exception in a Tk callback:\n" + "\n".join(errors))


@pytest.fixture
def wait_until(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``wait_until(cond, timeout=10)``: pump Tk (if an app exists) until cond() is true."""
    pump = None
    if "app" in request.fixturenames:
        pump = request.getfixturevalue("app").root.update

    def wait(cond: Callable[[], object], timeout: float = 10.0, message: str = "") -> None:
        wait_for(cond, timeout, message, pump=pump, interval=0.005)

    return wait


@pytest.fixture
def collect_events() -> Callable[..., EventCollector]:
    """``collect_events(outbox)``: an :class:`EventCollector` with ``wait(kind)``."""
    return EventCollector
