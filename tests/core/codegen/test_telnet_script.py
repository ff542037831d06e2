"""A telnet session driven by automation and typing, rendered as a telnetlib3 script and
replayed against the lab telnet server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.codegen import render
from core.servers.telnet_lab import LAB_PASSWORD, TelnetLabServer
from core.telnet.automation import AutomationRun, parse_script
from core.telnet.session import TelnetSession
from core.telnet.settings import TelnetSettings
from tests.fixtures.waiting import wait_for

LOGIN = """timeout 10
expect login:
send lab
expect Password:
send {secret}
expect-re \\$ $
"""


def test_automation_and_typing_replay_as_a_script(telnet_lab: TelnetLabServer,
                                                   tmp_path: Path) -> None:
    session = TelnetSession()
    try:
        session.connect(TelnetSettings(port=telnet_lab.port))
        auto = AutomationRun(session, parse_script(LOGIN), LAB_PASSWORD)
        auto.start()
        assert auto.join(20) and auto.result is not None and auto.result.ok, auto.result
        session.send_text("echo typed-by-hand\r")
        # the command line itself, then the shell's answer
        wait_for(lambda: "\n".join(session.screen.display_text()).count("typed-by-hand") >= 2,
                 10, "the lab shell did not answer")
    finally:
        session.close()
    ops = [(s.op, s.args.get("secret", False)) for s in session.recording]
    assert ops == [("connect", False), ("expect", False), ("send", False), ("expect", False),
                   ("send", True), ("expect", False), ("send", False)]
    script = render(session.recording)
    assert LAB_PASSWORD not in script  # the secret comes from the environment
    (tmp_path / "t.py").write_text(script)
    env = dict(os.environ, WIREBENCH_TELNET_PASSWORD=LAB_PASSWORD)
    result = subprocess.run([sys.executable, str(tmp_path / "t.py")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # the shell answered the replayed command, after the replayed login
    assert "typed-by-hand" in result.stdout.split("echo typed-by-hand", 1)[1]
