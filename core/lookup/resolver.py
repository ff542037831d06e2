"""The resolver functions of the origin document (section 2.7.1), each with a deadline.

``gethostbyname`` and friends call the C library, which has no timeout of its own: a
dead DNS server can hold a call for a minute. They run on one small shared pool; a
caller waits at most its deadline, and once the pool and its short queue are full, new
calls are refused at once instead of piling up threads that cannot be cancelled.
"""

from __future__ import annotations

import concurrent.futures
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from core.errors import UserError, check_port, describe_error
from core.lookup.dnsnames import check_name, is_address

T = TypeVar("T")

DEFAULT_DEADLINE = 5.0


class ResolverBusy(UserError):
    """Every slot of the system-resolver pool is taken by calls still waiting."""


class BoundedResolverPool:
    """At most ``workers`` threads and ``queued`` waiting calls, ever."""

    def __init__(self, workers: int = 4, queued: int = 16) -> None:
        # the "ThreadPoolExecutor" name prefix marks these as long-lived pool threads
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="ThreadPoolExecutor-resolver")
        self._slots = threading.BoundedSemaphore(workers + queued)
        self.capacity = workers + queued

    def call(self, fn: Callable[..., T], *args: Any, deadline: float = DEFAULT_DEADLINE,
             what: str = "") -> T:
        if not self._slots.acquire(blocking=False):
            raise ResolverBusy(
                f"{self.capacity} system lookups are still waiting for the resolver; "
                "wait for them to time out or check your DNS settings.", "")
        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda f: self._slots.release())
        try:
            return future.result(timeout=deadline)
        except concurrent.futures.TimeoutError:
            raise UserError(
                f"The system resolver did not answer{(' for ' + what) if what else ''} "
                f"within {deadline:g} s: check your network and DNS settings "
                "(the call keeps its slot until the C library gives up).", "") from None

    def in_use(self) -> int:
        return self.capacity - self._slots._value  # type: ignore[attr-defined]


POOL = BoundedResolverPool()


def _resolve_error(exc: OSError, name: str, field_name: str) -> UserError:
    if isinstance(exc, socket.herror):
        return UserError(f"No host name is registered for {name} ({exc.strerror}).",
                         field_name)
    if isinstance(exc, socket.gaierror):
        if exc.errno == socket.EAI_NONAME:
            return UserError(
                f"Name not found: {name} does not resolve; check the spelling.", field_name)
        if exc.errno == socket.EAI_AGAIN:
            return UserError(
                f"The resolver could not reach a DNS server for {name} (temporary "
                "failure): check the network.", field_name)
        if exc.errno == socket.EAI_SERVICE:
            return UserError(f"Unknown service {name!r}: use a port number or a name "
                             "from /etc/services.", "Service")
    return UserError(describe_error(exc, name), field_name)


def _run(fn: Callable[..., T], *args: Any, name: str, field_name: str,
         deadline: float) -> T:
    try:
        return POOL.call(fn, *args, deadline=deadline, what=name)
    except UserError:
        raise
    except OSError as exc:
        raise _resolve_error(exc, name, field_name) from None


def gethostname() -> str:
    """The machine's own name (``/etc/hostname`` through the C library)."""
    return socket.gethostname()


def getfqdn(name: str = "", deadline: float = DEFAULT_DEADLINE) -> str:
    """The fully qualified domain name of ``name`` (of this machine when empty)."""
    target = check_name(name, "Host") if name.strip() else ""
    return _run(socket.getfqdn, target, name=target or "this machine",
                field_name="Host", deadline=deadline)


def gethostbyname(name: str, deadline: float = DEFAULT_DEADLINE) -> str:
    target = check_name(name, "Host")
    return _run(socket.gethostbyname, target, name=target, field_name="Host",
                deadline=deadline)


@dataclass(frozen=True, slots=True)
class HostEntry:
    """``gethostbyname_ex`` / ``gethostbyaddr``: (hostname, aliaslist, ipaddrlist)."""

    name: str
    aliases: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)


def gethostbyname_ex(name: str, deadline: float = DEFAULT_DEADLINE) -> HostEntry:
    target = check_name(name, "Host")
    host, aliases, addresses = _run(socket.gethostbyname_ex, target, name=target,
                                    field_name="Host", deadline=deadline)
    return HostEntry(host, list(aliases), list(addresses))


def gethostbyaddr(address: str, deadline: float = DEFAULT_DEADLINE) -> HostEntry:
    target = (address or "").strip()
    if not target:
        raise UserError("Address is empty: type an IP address such as 127.0.0.1.", "Address")
    if not is_address(target):
        target = check_name(target, "Address")
    host, aliases, addresses = _run(socket.gethostbyaddr, target, name=target,
                                    field_name="Address", deadline=deadline)
    return HostEntry(host, list(aliases), list(addresses))


FAMILIES = {"any": socket.AF_UNSPEC, "IPv4": socket.AF_INET, "IPv6": socket.AF_INET6}
SOCKTYPES = {"any": 0, "stream (TCP)": socket.SOCK_STREAM, "dgram (UDP)": socket.SOCK_DGRAM,
             "raw": socket.SOCK_RAW}
AI_FLAGS = {name: getattr(socket, name) for name in
            ("AI_PASSIVE", "AI_CANONNAME", "AI_NUMERICHOST", "AI_NUMERICSERV",
             "AI_ADDRCONFIG", "AI_V4MAPPED", "AI_ALL") if hasattr(socket, name)}


@dataclass(frozen=True, slots=True)
class AddrInfo:
    family: str
    socktype: str
    proto: str
    canonname: str
    address: str
    port: int


def _enum_name(value: int, prefix: str) -> str:
    for name in dir(socket):
        if name.startswith(prefix) and getattr(socket, name) == value:
            return name
    return str(value)


def getaddrinfo(host: str, port: str | int | None = None, family: str = "any",
                socktype: str = "any", flags: list[str] | tuple[str, ...] = (),
                deadline: float = DEFAULT_DEADLINE) -> list[AddrInfo]:
    """``socket.getaddrinfo`` with named family/type/flags; a service name or a port."""
    target: str | None = (host or "").strip() or None
    if target is not None:
        target = check_name(target, "Host")
    service: str | int | None = None
    text = "" if port is None else str(port).strip()
    if text:
        service = check_port(text, "Port") if text.isdigit() else text
    if target is None and service is None:
        raise UserError("Host and port are both empty: give at least one.", "Host")
    try:
        fam = FAMILIES[family]
        kind = SOCKTYPES[socktype]
        bits = 0
        for flag in flags:
            bits |= AI_FLAGS[flag]
    except KeyError as exc:
        raise UserError(f"Unknown getaddrinfo option {exc.args[0]!r}.", "Flags") from None
    if isinstance(service, str):
        # a bad service name is the user's field, not the host's
        try:
            socket.getservbyname(service)
        except OSError:
            try:
                socket.getservbyname(service, "udp")
            except OSError:
                raise UserError(
                    f"Unknown service {service!r}: use a port number or a name from "
                    "/etc/services (http, ftp, ssh, …).", "Port") from None
    rows = _run(socket.getaddrinfo, target, service, fam, kind, 0, bits,
                name=target or str(service), field_name="Host", deadline=deadline)
    out = []
    for fam_v, type_v, proto_v, canon, sockaddr in rows:
        out.append(AddrInfo(
            family=_enum_name(fam_v, "AF_"), socktype=_enum_name(type_v, "SOCK_"),
            proto=_proto_name(proto_v), canonname=canon, address=str(sockaddr[0]),
            port=int(sockaddr[1])))
    return out


def _proto_name(number: int) -> str:
    return {socket.IPPROTO_TCP: "tcp", socket.IPPROTO_UDP: "udp", 0: "-"}.get(
        number, str(number))
