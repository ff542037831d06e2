"""The Socket tab as every test of its modules finds it: shown, cleared, closed after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gui.tabs.socket.tab import SocketTab


@pytest.fixture
def tab(app, wait_until) -> Iterator[SocketTab]:  # noqa: ANN001
    tab = app.tab("socket")
    app.select_tab(app.tabs.index(tab))
    tab.clear_output()
    tab.view_var.set("both")
    tab._redraw()
    yield tab
    tab.close_button.invoke()
    wait_until(lambda: "Closed" in tab.state_var.get() and not tab.session.running)
    tab.error_var.set("")
    tab.transcript.max_records = 10_000
