"""Service and protocol names (the origin document's section 2.7.2 and 4.1).

``getservbyname('http', 'tcp')`` is how a server learns its port "for platform
independence"; the tables here are what the system files hold, for browsing.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from core.errors import UserError, check_port

SERVICES_FILE = Path("/etc/services")
PROTOCOLS_FILE = Path("/etc/protocols")
TRANSPORTS = ("tcp", "udp")
T = TypeVar("T")


def _check_proto(proto: str) -> str:
    value = (proto or "").strip().lower()
    if value not in ("", *TRANSPORTS):
        raise UserError(f"Protocol must be tcp or udp, got {proto!r}.", "Protocol")
    return value


def getservbyname(name: str, proto: str = "tcp") -> int:
    """Port of service ``name`` over ``proto`` ('' = any); clear error when unknown."""
    service = (name or "").strip()
    if not service:
        raise UserError("Service is empty: type a name such as http or ftp.", "Service")
    if len(service) > 64 or not service.isprintable():
        raise UserError("Service must be a short name such as http or ftp.", "Service")
    transport = _check_proto(proto)
    found = _ask_services(socket.getservbyname, service, transport)
    if found is None:
        raise UserError(
            f"Unknown service {service}{_over(transport)}: it is not in /etc/services on "
            "this system (try http, ftp, ssh, smtp or a port number).", "Service")
    return found


def getservbyport(port: str | int, proto: str = "tcp") -> str:
    number = check_port(port, "Port", allow_zero=True)
    transport = _check_proto(proto)
    found = _ask_services(socket.getservbyport, number, transport)
    if found is None:
        raise UserError(f"No service is registered for port {number}{_over(transport)} on "
                        "this system.", "Port")
    return found


def _ask_services(call: Callable[..., T], key: str | int, transport: str) -> T | None:
    """``call(key, transport)``, or ``call(key)`` for any transport; None when the
    system's services table has no such entry."""
    try:
        return call(key, transport) if transport else call(key)
    except OSError:
        return None


def _over(transport: str) -> str:
    return f"/{transport}" if transport else ""


def getprotobyname(name: str) -> int:
    proto = (name or "").strip()
    if not proto:
        raise UserError("Protocol is empty: type a name such as tcp, udp or icmp.",
                        "Protocol")
    try:
        return socket.getprotobyname(proto)
    except OSError:
        raise UserError(f"Unknown protocol {proto!r}: it is not in /etc/protocols "
                        "(try tcp, udp, icmp).", "Protocol") from None


def getprotobynumber(number: str | int) -> str:
    """Name of IP protocol ``number`` (no such call in ``socket``: read from the table)."""
    try:
        value = int(str(number).strip())
    except ValueError:
        raise UserError(f"Protocol number must be 0–255, got {number!r}.",
                        "Protocol") from None
    if not 0 <= value <= 255:
        raise UserError(f"Protocol number must be 0–255, got {value}.", "Protocol")
    for entry in protocol_table():
        if entry.number == value:
            return entry.name
    raise UserError(f"No protocol is registered under number {value} in /etc/protocols.",
                    "Protocol")


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    name: str
    port: int
    proto: str
    aliases: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ProtocolEntry:
    name: str
    number: int
    aliases: tuple[str, ...] = ()
    comment: str = ""


def _lines(path: Path) -> list[tuple[list[str], str]]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        body, _, comment = line.partition("#")
        words = body.split()
        if words:
            out.append((words, comment.strip()))
    return out


def service_table(path: Path = SERVICES_FILE) -> list[ServiceEntry]:
    """Every ``name port/proto aliases`` line of the services file."""
    entries = []
    for words, comment in _lines(path):
        if len(words) < 2 or "/" not in words[1]:
            continue
        port_text, _, proto = words[1].partition("/")
        if not port_text.isdigit():
            continue
        entries.append(ServiceEntry(words[0], int(port_text), proto, tuple(words[2:]),
                                    comment))
    return entries


def protocol_table(path: Path = PROTOCOLS_FILE) -> list[ProtocolEntry]:
    entries = []
    for words, comment in _lines(path):
        if len(words) < 2 or not words[1].isdigit():
            continue
        entries.append(ProtocolEntry(words[0], int(words[1]), tuple(words[2:]), comment))
    return entries


def search_services(query: str, entries: list[ServiceEntry] | None = None) -> list[ServiceEntry]:
    """Entries whose name, alias, port, protocol or comment contains ``query``."""
    rows = service_table() if entries is None else entries
    needle = (query or "").strip().lower()
    if not needle:
        return rows
    if needle.isdigit():
        return [e for e in rows if e.port == int(needle)]
    return [e for e in rows if needle in e.name.lower() or needle == e.proto
            or any(needle in a.lower() for a in e.aliases) or needle in e.comment.lower()]


def search_protocols(query: str,
                     entries: list[ProtocolEntry] | None = None) -> list[ProtocolEntry]:
    rows = protocol_table() if entries is None else entries
    needle = (query or "").strip().lower()
    if not needle:
        return rows
    if needle.isdigit():
        return [e for e in rows if e.number == int(needle)]
    return [e for e in rows if needle in e.name.lower()
            or any(needle in a.lower() for a in e.aliases) or needle in e.comment.lower()]
