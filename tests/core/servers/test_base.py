"""The controller base: the open-files limit raised at start, limit logs throttled."""

from __future__ import annotations

import resource
import subprocess
import sys

from core.servers.base import ServerController


def test_the_soft_open_files_limit_is_raised_to_the_hard_one() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def lower() -> None:  # a stock distribution's soft limit, in the child only
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    code = ("import resource\nfrom core.servers.base import raise_open_files_limit\n"
            "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0], raise_open_files_limit(),"
            " resource.getrlimit(resource.RLIMIT_NOFILE)[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         preexec_fn=lower, check=True, timeout=30).stdout.split()
    expected = hard if hard != resource.RLIM_INFINITY else 1 << 20
    assert [int(x) for x in out] == [256, expected, expected]


class _Quiet(ServerController):
    def _start(self) -> None: ...
    def _stop(self, timeout: float) -> None: ...
    running = False


def test_a_limit_is_logged_once_per_period_with_the_count_of_the_rest() -> None:
    server = _Quiet()
    for _ in range(5):
        server.log_limit("max clients", "full", every=60)
    server._limit_logged["max clients"] = (-100.0, 4)  # the period has passed
    server.log_limit("max clients", "full again", every=60)
    lines = []
    while not server.outbox.empty():
        lines.append(server.outbox.get().text)
    assert lines == ["full [max clients]",
                     "full again [max clients] (and 4 more since the last report)"]
