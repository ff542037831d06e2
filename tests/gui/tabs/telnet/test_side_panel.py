"""The Telnet side panel without a connection: it explains instead of running."""

from __future__ import annotations

from core.telnet.protocol import OptionsChanged
from core.telnet.session import TelnetSession
from core.worker import Outbox
from gui.tabs.telnet.side_panel import DEFAULT_SCRIPT, SidePanel


def test_automation_needs_a_live_session_and_a_valid_script(app) -> None:  # noqa: ANN001
    errors: list[str] = []
    session = TelnetSession(Outbox())
    panel = SidePanel(app.root, session, session.outbox, DEFAULT_SCRIPT, errors.append)
    try:
        assert "{secret}" in panel.script() and panel.secret_var.get() == ""
        panel.run_automation()
        assert errors == ["Automation needs a live session: connect first."]
        assert panel.automation is None
        session.connected = True  # a bad script is refused before anything is sent
        panel.script_text.insert("1.0", "shout hello\n")
        panel.run_automation()
        assert "Script line 1" in errors[-1] and panel.auto_var.get() == errors[-1]
        assert panel.automation is None and panel.run_button.cget("text") == "Run"
        panel.show_options(OptionsChanged(local=frozenset({"NAWS"}),
                                          remote=frozenset({"ECHO", "SGA"})))
        assert panel.options_var.get() == "We do: NAWS\nServer does: ECHO, SGA"
    finally:
        panel.stop()
        panel.destroy()
