"""Expect/send automation against the real lab server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.errors import UserError
from core.servers.telnet_lab import LAB_PASSWORD, TelnetLabServer
from core.telnet.automation import AutomationDone, AutomationProgress, AutomationRun, parse_script
from core.telnet.session import TelnetSession
from core.telnet.settings import TelnetSettings
from core.worker import drain
from tests.fixtures.waiting import wait_for

LOGIN = """timeout 10
expect login:
send lab
expect Password:
send {secret}
expect-re \\$ $
send echo automated-{secret-free}
expect automated-{secret-free}
"""


@pytest.fixture
def session() -> Iterator[TelnetSession]:
    s = TelnetSession()
    yield s
    s.close()


def run(session: TelnetSession, script: str, secret: str) -> tuple[AutomationRun, list]:
    auto = AutomationRun(session, parse_script(script), secret)
    auto.start()
    assert auto.join(20)
    events = drain(session.outbox)
    return auto, events


def test_script_logs_in_and_runs_a_command(session: TelnetSession,
                                           telnet_lab: TelnetLabServer) -> None:
    session.connect(TelnetSettings(port=telnet_lab.port))
    auto, events = run(session, LOGIN, LAB_PASSWORD)
    assert auto.result is not None and auto.result.ok, auto.result
    progress = [e for e in events if isinstance(e, AutomationProgress)]
    assert [p.index for p in progress] == list(range(1, 8))
    assert progress[3].description == "send '******'"
    # the secret never appears in any event the GUI sees
    assert not any(LAB_PASSWORD in repr(e) for e in events if not hasattr(e, "lines"))
    wait_for(lambda: "automated-{secret-free}" in "\n".join(session.screen.display_text()), 5)


def test_a_failing_step_says_which_and_why(session: TelnetSession,
                                           telnet_lab: TelnetLabServer) -> None:
    session.connect(TelnetSettings(port=telnet_lab.port))
    script = "timeout 0.5\nexpect login:\nsend lab\nexpect Passphrase:\nsend x\n"
    auto, events = run(session, script, "")
    done = [e for e in events if isinstance(e, AutomationDone)]
    assert done and not done[0].ok and done[0].step == 3
    assert "Step 3 (expect text 'Passphrase:'" in done[0].message
    assert "timed out after 0.5 s" in done[0].message
    assert "Password:" in done[0].message  # what did arrive


def test_script_errors_name_the_line() -> None:
    with pytest.raises(UserError, match="line 2: unknown command 'sned'"):
        parse_script("expect login:\nsned lab\n")
    with pytest.raises(UserError, match="line 1: bad regular expression"):
        parse_script("expect-re ([\n")
    with pytest.raises(UserError, match="timeout must be"):
        parse_script("timeout soon\n")
    with pytest.raises(UserError, match="empty"):
        parse_script("# nothing\n")


def test_secret_is_required_when_used(session: TelnetSession) -> None:
    with pytest.raises(UserError, match="Secret field is empty"):
        AutomationRun(session, parse_script("send {secret}"), "")
