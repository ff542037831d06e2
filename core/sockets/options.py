"""The socket options a user can set and read back (setsockopt / getsockopt)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from core.errors import UserError


@dataclass(frozen=True, slots=True)
class SocketOption:
    name: str
    level: int
    optname: int
    boolean: bool
    transports: frozenset[str]  # where it means something: tcp, udp, unix-stream, unix-dgram
    help: str


_ALL = frozenset({"tcp", "udp", "unix-stream", "unix-dgram"})
OPTIONS: dict[str, SocketOption] = {o.name: o for o in (
    SocketOption("SO_REUSEADDR", socket.SOL_SOCKET, socket.SO_REUSEADDR, True,
                 frozenset({"tcp", "udp"}), "bind a port still in TIME_WAIT"),
    SocketOption("SO_KEEPALIVE", socket.SOL_SOCKET, socket.SO_KEEPALIVE, True,
                 frozenset({"tcp"}), "probe idle connections"),
    SocketOption("TCP_NODELAY", socket.IPPROTO_TCP, socket.TCP_NODELAY, True,
                 frozenset({"tcp"}), "send small writes at once (no Nagle)"),
    SocketOption("SO_BROADCAST", socket.SOL_SOCKET, socket.SO_BROADCAST, True,
                 frozenset({"udp"}), "allow sendto a broadcast address"),
    SocketOption("SO_RCVBUF", socket.SOL_SOCKET, socket.SO_RCVBUF, False, _ALL,
                 "kernel receive buffer, bytes"),
    SocketOption("SO_SNDBUF", socket.SOL_SOCKET, socket.SO_SNDBUF, False, _ALL,
                 "kernel send buffer, bytes"),
)}


def options_for(transport: str) -> list[SocketOption]:
    return [o for o in OPTIONS.values() if transport in o.transports]


def check_option(name: str, value: int | bool | str) -> int:
    """Validate a user value for option ``name``; returns the int to pass to setsockopt."""
    option = OPTIONS.get(name)
    if option is None:
        raise UserError(f"Unknown socket option {name!r}; choose one of "
                        f"{', '.join(OPTIONS)}.", "Option")
    if option.boolean:
        if isinstance(value, str):
            value = value.strip().lower() in ("1", "on", "true", "yes")
        return int(bool(value))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UserError(f"{name} must be a number of bytes, got {value!r}.", name) from None
    if not 1 <= number <= 64 * 1024 * 1024:
        raise UserError(f"{name} must be 1–67108864 bytes, got {number}.", name)
    return number


def apply_options(sock: socket.socket, transport: str, values: dict[str, int]) -> None:
    for name, value in values.items():
        option = OPTIONS[name]
        if transport in option.transports:
            sock.setsockopt(option.level, option.optname, value)


def read_options(sock: socket.socket, transport: str) -> dict[str, int]:
    """Current values as the kernel reports them (Linux doubles SO_RCVBUF/SO_SNDBUF)."""
    out: dict[str, int] = {}
    for option in options_for(transport):
        try:
            value = sock.getsockopt(option.level, option.optname)
        except OSError:
            continue
        out[option.name] = int(bool(value)) if option.boolean else value
    return out
