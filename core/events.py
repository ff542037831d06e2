"""Events that core workers post to an outbox and the GUI drains.

Every event is a frozen dataclass so it can cross threads safely: a worker builds it,
the Tk thread reads it, nobody mutates it in between. Tab-specific events live beside
the session that makes them (subclass :class:`Event` there), the shared ones live here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.states import ConnState


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of all events. ``source`` names the session or server that posted it."""

    source: str = ""
    at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(Event):
    peer: str
    local: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DataReceived(Event):
    data: bytes
    peer: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSent(Event):
    data: bytes
    peer: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged(Event):
    state: ConnState
    detail: str = ""

    def __post_init__(self) -> None:
        # tabs compare members (``is ConnState.CLOSED``): a loose string would never match
        if not isinstance(self.state, ConnState):
            raise TypeError(f"StateChanged.state must be a ConnState, got {self.state!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Closed(Event):
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(Event):
    """A user-facing error: one sentence naming the cause and the fix."""

    message: str
    field_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress(Event):
    done: int
    total: int | None = None
    rate: float = 0.0
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Callback(Event):
    """A call to make on the GUI thread (a worker's ``on_done``/``on_error`` with its
    argument bound). ``gui/bridge.py`` runs it in order with the outbox's other events
    instead of handing it to the tab; :func:`core.worker.deliver` does so without Tk."""

    call: Callable[[], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLine(Event):
    text: str
    level: str = "info"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerStarted(Event):
    kind: str
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerStopped(Event):
    kind: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerCrashed(Event):
    """A serving thread ended with an exception: the server is down, ``reason`` says why."""

    kind: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerStats(Event):
    kind: str
    connections: int = 0
    total_connections: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    requests: int = 0
