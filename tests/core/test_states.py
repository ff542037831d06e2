from __future__ import annotations

import pytest

from core.states import (
    STATES,
    Closed,
    ConnectionStateMachine,
    Established,
    Listening,
    ReadShut,
    StateError,
    WriteShut,
)


def test_client_life_cycle_reports_each_change() -> None:
    changes: list[str] = []
    machine = ConnectionStateMachine(lambda state, detail: changes.append(state.name))
    machine.apply("connect")
    machine.apply("connected")
    machine.apply("send")
    machine.apply("shutdown_write")
    machine.apply("recv")  # half-closed: still receiving
    machine.apply("peer_closed")
    assert changes == ["Connecting", "Established", "WriteShut", "Closed"]


def test_listener_accepts_and_closes() -> None:
    machine = ConnectionStateMachine()
    machine.apply("listen")
    machine.apply("accept")
    assert machine.is_(Listening)
    machine.apply("close")
    assert machine.is_(Closed)


@pytest.mark.parametrize(
    "path,operation,needle",
    [
        ([], "send", "connect (or listen"),
        ([], "shutdown_write", "no connection"),
        (["listen"], "connect", "listener"),
        (["connect", "connected"], "listen", "cannot listen"),
        (["connect", "connected", "shutdown_write"], "send", "SHUT_WR"),
        (["connect", "connected", "shutdown_read"], "recv", "SHUT_RD"),
        (["bind"], "shutdown_write", "datagram"),
    ],
)
def test_misuse_raises_a_named_error(path: list[str], operation: str, needle: str) -> None:
    machine = ConnectionStateMachine()
    for step in path:
        machine.apply(step)
    before = machine.name
    with pytest.raises(StateError) as info:
        machine.apply(operation)
    assert needle in str(info.value)
    assert str(info.value).startswith(f"Cannot {operation.replace('_', ' ')} while")
    assert machine.name == before  # a refused operation changes nothing


def test_table_only_points_at_known_states() -> None:
    for cls in STATES.values():
        for target in cls.transitions.values():
            assert target is None or target in STATES.values()
    assert ReadShut().allows("send") and not ReadShut().allows("recv")
    assert WriteShut().allows("recv") and not WriteShut().allows("send")
    assert Established().allows("shutdown_both")


def test_an_accepted_socket_is_born_established() -> None:
    changes: list[str] = []
    machine = ConnectionStateMachine(lambda state, detail: changes.append(state.name))
    machine.apply("accepted")
    assert machine.is_(Established) and changes == ["Established"]
