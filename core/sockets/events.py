"""Events only socket sessions post (the shared ones are in core/events.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.events import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalAddress(Event):
    """The socket is bound: ``address`` is what the kernel gave (port 0 -> a real port)."""

    address: str
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsEstablished(Event):
    """A TLS handshake finished: negotiated version, cipher and peer certificate summary."""

    peer: str
    info: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerClosed(Event):
    """One connection of a listener (or the client's connection) ended or half-closed."""

    peer: str
    reason: str = ""
    half: bool = False  # True: only the peer's write side (it sent FIN); we may still send
