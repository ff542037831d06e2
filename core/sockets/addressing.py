"""Turning what the user typed (host, port, family, UNIX path) into socket addresses."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
from typing import Any

from core.errors import UserError, check_port

TRANSPORTS = ("tcp", "udp", "unix-stream", "unix-dgram")
FAMILIES = {"auto": socket.AF_UNSPEC, "ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}
BROADCAST = "<broadcast>"
#: sun_path is 108 bytes on Linux (104 on macOS) including the terminating NUL
UNIX_PATH_MAX = 107 if hasattr(socket, "AF_UNIX") and os.uname().sysname == "Linux" else 103

Address = Any  # (host, port) / (host, port, flow, scope) / str path / bytes abstract name


def is_unix(transport: str) -> bool:
    return transport.startswith("unix")


def sock_type(transport: str) -> int:
    return socket.SOCK_DGRAM if transport in ("udp", "unix-dgram") else socket.SOCK_STREAM


def check_transport(transport: str) -> str:
    if transport not in TRANSPORTS:
        raise UserError(f"Mode must be one of {', '.join(TRANSPORTS)}, got {transport!r}.",
                        "Mode")
    if is_unix(transport) and not hasattr(socket, "AF_UNIX"):
        raise UserError("UNIX sockets are not available on this system; use TCP or UDP.",
                        "Mode")
    return transport


def check_family(family: str) -> int:
    try:
        return FAMILIES[family]
    except KeyError:
        raise UserError(f"Family must be auto, ipv4 or ipv6, got {family!r}.",
                        "Family") from None


def check_unix_path(path: str, field: str = "Path") -> str:
    path = path.strip()
    if not path:
        raise UserError(f"{field} is empty: give a file path such as /tmp/wirebench.sock.",
                        field)
    size = len(os.fsencode(path))
    if size > UNIX_PATH_MAX:
        raise UserError(f"{field} is {size} bytes long; UNIX socket paths are limited to "
                        f"{UNIX_PATH_MAX} bytes here. Choose a shorter path, e.g. in /tmp.",
                        field)
    return path


def resolve(host: str, port: int | str, family: str, transport: str,
            passive: bool = False) -> list[tuple[int, Address]]:
    """(family, sockaddr) candidates for ``host``: blocking, call off the Tk thread.

    ``''`` means all interfaces (passive) and ``<broadcast>`` the IPv4 broadcast address.
    """
    port = check_port(port, "Port", allow_zero=passive)
    af = check_family(family)
    if host == BROADCAST:
        if af == socket.AF_INET6:
            raise UserError("<broadcast> exists only in IPv4; set Family to ipv4 or auto.",
                            "Host")
        return [(socket.AF_INET, ("255.255.255.255", port))]
    if host == "" and passive:
        if af == socket.AF_INET or (af == socket.AF_UNSPEC and not socket.has_dualstack_ipv6()):
            return [(socket.AF_INET, ("0.0.0.0", port))]
        return [(socket.AF_INET6, ("::", port))]
    if not host:
        raise UserError("Host is empty: give a name or address, e.g. 127.0.0.1.", "Host")
    flags = socket.AI_PASSIVE if passive else 0
    infos = socket.getaddrinfo(host, port, af, sock_type(transport), 0, flags)
    seen: list[tuple[int, Address]] = []
    for fam, _type, _proto, _name, addr in infos:
        if (fam, addr) not in seen:
            seen.append((fam, addr))
    return seen


def format_address(addr: Address) -> str:
    """``127.0.0.1:80``, ``[::1]:80``, a UNIX path, ``@name`` (abstract) or ``unnamed``."""
    if isinstance(addr, tuple):
        host, port = addr[0], addr[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(addr, bytes):
        return "@" + addr[1:].decode("latin-1") if addr[:1] == b"\0" else os.fsdecode(addr)
    return addr or "unnamed"


def parse_address(text: str, transport: str) -> Address:
    """A peer typed as ``host:port``, ``[v6]:port`` or a UNIX path, for datagram replies."""
    if is_unix(transport):
        if text.startswith("@"):
            return b"\0" + text[1:].encode("latin-1")
        return check_unix_path(text, "Peer")
    host, sep, port = text.rpartition(":")
    if not sep:
        raise UserError(f"Peer {text!r} needs a port: write host:port.", "Peer")
    return host.strip("[]"), check_port(port, "Peer port")


def claim_unix_path(path: str, transport: str) -> None:
    """Before bind: remove a stale socket file (no listener); refuse a live one or a file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise UserError(f"Path {path} exists and is not a socket; choose another path "
                        "(it is not removed for you).", "Path")
    probe = socket.socket(socket.AF_UNIX, sock_type(transport))
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # stale: left by a program that did not clean up
        return
    except OSError as exc:
        if exc.errno == errno.EPROTOTYPE:  # a live socket of the other type
            raise UserError(f"Path {path} is in use by a socket of another type; choose "
                            "another path.", "Path") from None
        raise
    finally:
        probe.close()
    raise UserError(f"Path {path} is in use: a program listens there. Stop it or choose "
                    "another path.", "Path")
