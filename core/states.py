"""Connection states after the origin document's section 4.3.2 (the State pattern).

The document's ``TCPConnection`` delegates to ``TCPClosed`` / ``TCPListen`` /
``TCPEstablished`` state objects and raises ``CloseStateError`` / ``ListenStateError``
when a method is called in the wrong state. Here each state is a class naming the
operations it allows and where each transition leads; :class:`ConnectionStateMachine`
is the context. Socket sessions and the embedded servers share it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum
from typing import ClassVar

from core.errors import UserError


class ConnState(StrEnum):
    """Every state a ``StateChanged`` event can carry, shared by all protocols.

    Sockets and the echo servers use all of them (through :class:`ConnectionStateMachine`);
    telnet, FTP and SMTP use ``CONNECTING``, ``ESTABLISHED`` and ``CLOSED``. The values
    are what the Socket tab shows.
    """

    CLOSED = "Closed"
    CONNECTING = "Connecting"
    LISTENING = "Listening"
    BOUND = "Bound"
    ESTABLISHED = "Established"
    READ_SHUT = "ReadShut"  # half-closed: our read side is shut
    WRITE_SHUT = "WriteShut"  # half-closed: our write side is shut (FIN sent)


class StateError(UserError):
    """An operation that the current state does not allow (the document's *StateError)."""

    def __init__(self, state: ConnectionState, operation: str) -> None:
        hint = state.hints.get(operation) or state.default_hint
        super().__init__(f"Cannot {operation.replace('_', ' ')} while {state.label}: {hint}",
                         "")
        self.state = state
        self.operation = operation


class ConnectionState:
    """Abstract state (the document's ``TCPState``)."""

    name: ClassVar[ConnState]
    label: ClassVar[str] = "in an unknown state"
    #: operation -> state it leads to (None: stays in this state)
    transitions: ClassVar[dict[str, type[ConnectionState] | None]] = {}
    hints: ClassVar[dict[str, str]] = {}
    default_hint: ClassVar[str] = "close the connection and start again."

    def allows(self, operation: str) -> bool:
        return operation in self.transitions

    def next_state(self, operation: str) -> type[ConnectionState] | None:
        if operation not in self.transitions:
            raise StateError(self, operation)
        return self.transitions[operation]

    def __repr__(self) -> str:
        return f"<{self.name}>"


class Closed(ConnectionState):
    name, label = ConnState.CLOSED, "closed"
    default_hint = "connect or listen first."


class Connecting(ConnectionState):
    name, label = ConnState.CONNECTING, "connecting"
    default_hint = "wait until the connection is established, or close it."


class Listening(ConnectionState):
    name, label = ConnState.LISTENING, "listening"
    default_hint = "wait for a client to connect, or close the listener."


class Bound(ConnectionState):
    """A datagram socket: no connection, sendto/recvfrom at will."""

    name, label = ConnState.BOUND, "bound (datagram)"
    default_hint = "datagram sockets have no connection to shut down; close instead."


class Established(ConnectionState):
    name, label = ConnState.ESTABLISHED, "established"
    default_hint = "the connection is already open; close it first."


class ReadShut(ConnectionState):
    """Half-closed: our read side is shut (SHUT_RD); sending still works."""

    name, label = ConnState.READ_SHUT, "half-closed (read side shut)"
    default_hint = "the read side is shut; you can still send, or close."


class WriteShut(ConnectionState):
    """Half-closed: our write side is shut (SHUT_WR, FIN sent); receiving still works."""

    name, label = ConnState.WRITE_SHUT, "half-closed (write side shut)"
    default_hint = "the write side is shut (FIN sent); you can still receive, or close."


# The table, in one place (as h11 keeps its state machine): state -> operation -> next.
# "accepted": the server side of accept(), a socket born established
Closed.transitions = {"connect": Connecting, "listen": Listening, "bind": Bound,
                      "accepted": Established, "close": None}
Connecting.transitions = {"connected": Established, "fail": Closed, "close": Closed}
Listening.transitions = {"accept": None, "send": None, "close": Closed, "fail": Closed}
Bound.transitions = {"send": None, "recv": None, "close": Closed, "fail": Closed}
Established.transitions = {
    "send": None, "recv": None, "shutdown_read": ReadShut, "shutdown_write": WriteShut,
    "shutdown_both": Closed, "peer_closed": ReadShut, "close": Closed, "fail": Closed,
}
ReadShut.transitions = {"send": None, "shutdown_write": Closed, "shutdown_both": Closed,
                        "peer_closed": None, "close": Closed, "fail": Closed}
WriteShut.transitions = {"recv": None, "shutdown_read": Closed, "shutdown_both": Closed,
                         "peer_closed": Closed, "close": Closed, "fail": Closed}

Closed.hints = {"send": "connect (or listen and accept a client) before sending.",
                "shutdown_read": "there is no connection to shut down.",
                "shutdown_write": "there is no connection to shut down."}
Listening.hints = {"connect": "this socket is a listener; close it to connect elsewhere.",
                   "listen": "it is already listening."}
Established.hints = {"connect": "already connected; close first.",
                     "listen": "a connected socket cannot listen; close first."}
ReadShut.hints = {"recv": "the read side was shut down (SHUT_RD)."}
WriteShut.hints = {"send": "the write side was shut down (SHUT_WR): the peer got FIN."}

STATES: dict[ConnState, type[ConnectionState]] = {
    cls.name: cls for cls in (Closed, Connecting, Listening, Bound, Established, ReadShut,
                              WriteShut)
}


class ConnectionStateMachine:
    """The context object: holds the current state and applies operations to it.

    ``require(op)`` checks without moving; ``apply(op)`` checks and moves. Thread-safe:
    the I/O thread and the caller's thread both apply operations.
    """

    def __init__(self, on_change: Callable[[ConnectionState, str], None] | None = None) -> None:
        self._state: ConnectionState = Closed()
        self._lock = threading.Lock()
        self.on_change = on_change

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def name(self) -> ConnState:
        return self._state.name

    def is_(self, *states: type[ConnectionState]) -> bool:
        return isinstance(self._state, states)

    def require(self, operation: str) -> None:
        self._state.next_state(operation)

    def apply(self, operation: str, detail: str = "") -> ConnectionState:
        with self._lock:
            target = self._state.next_state(operation)
            changed = target is not None and not isinstance(self._state, target)
            if target is not None:
                self._state = target()
            state = self._state
        if changed and self.on_change:
            self.on_change(state, detail or operation)
        return state

    def reset(self, detail: str = "reset") -> None:
        with self._lock:
            changed = not isinstance(self._state, Closed)
            self._state = Closed()
        if changed and self.on_change:
            self.on_change(self._state, detail)
