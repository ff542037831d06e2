"""Shared by the socket session tests: an event watcher, a session closed at the end, and
a client of a TLS listener."""

from __future__ import annotations

import contextlib
import queue
import socket
import ssl
from collections.abc import Callable, Iterator

import pytest

from core.events import Closed, DataReceived, Event, Failed, StateChanged
from core.sockets import LocalAddress, SocketConfig, SocketSession, TlsEstablished
from tests.fixtures.waiting import wait_for


class Watch:
    """Collects a session's events; ``until(pred)`` waits (bounded) for a matching one."""

    def __init__(self, session: SocketSession) -> None:
        self.session = session
        self.events: list[Event] = []

    def until(self, pred: Callable[[Event], bool], timeout: float = 10.0,
              fresh: bool = False) -> Event:
        """The first matching event; ``fresh``: only among events not yet collected."""
        for event in [] if fresh else self.events:
            if pred(event):
                return event
        found: list[Event] = []

        def arrived() -> bool:
            # one event at a time: a predicate over what came so far (wait_bytes) sees
            # the stream as it was when the matching event arrived
            while True:
                try:
                    event = self.session.outbox.get_nowait()
                except queue.Empty:
                    return False
                self.events.append(event)
                if pred(event):
                    found.append(event)
                    return True

        wait_for(arrived, timeout,
                 lambda: f"no matching event in {timeout} s; got {self.events[-8:]}",
                 interval=0.002)
        return found[0]

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def received(self, peer: str | None = None) -> bytes:
        return b"".join(e.data for e in self.of(DataReceived) if peer in (None, e.peer))

    def wait_bytes(self, expected: bytes, peer: str | None = None) -> None:
        self.until(lambda e: self.received(peer).endswith(expected) if isinstance(
            e, DataReceived) else False)

    def state(self, name: str) -> None:
        self.until(lambda e: isinstance(e, StateChanged) and e.state == name)

    def failed(self, fresh: bool = False) -> Failed:
        return self.until(lambda e: isinstance(e, Failed), fresh=fresh)

    def closed(self) -> Closed:
        return self.until(lambda e: isinstance(e, Closed), fresh=True)


@pytest.fixture
def session() -> Iterator[tuple[SocketSession, Watch]]:
    s = SocketSession()
    yield s, Watch(s)
    s.close()



@contextlib.contextmanager
def tls_client_of_listener(s: SocketSession, w: Watch, **wrap: bool) -> Iterator[ssl.SSLSocket]:
    """Start a TLS listener (generated certificate) on ``s``; connect one unverified client."""
    s.listen(SocketConfig(host="127.0.0.1", port=0, tls=True))
    port = int(w.until(lambda e: isinstance(e, LocalAddress)).address.rsplit(":", 1)[1])
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            ctx.wrap_socket(raw, **wrap) as client:
        w.until(lambda e: isinstance(e, TlsEstablished))
        yield client
