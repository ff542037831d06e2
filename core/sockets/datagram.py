"""Datagram sockets (UDP, UNIX datagram): bind, recvfrom and sendto on the I/O thread.

:class:`DatagramIO` is a mixin of :class:`core.sockets.session.SocketSession`.
"""

from __future__ import annotations

import ipaddress
import selectors
import socket

from core.errors import UserError, check_port
from core.events import DataReceived, DataSent
from core.sockets.addressing import (
    BROADCAST,
    Address,
    claim_unix_path,
    format_address,
    is_unix,
    parse_address,
    resolve,
)
from core.sockets.events import LocalAddress
from core.sockets.loop import MAX_DGRAM_BACKLOG, RECV_SIZE


class DatagramIO:
    """Bind the datagram socket, read bursts of datagrams, send to a peer or the target."""

    def _setup_datagram(self) -> None:
        cfg = self.config
        if is_unix(cfg.transport):
            sock = self._new_socket(socket.AF_UNIX)
            if cfg.local_path:
                claim_unix_path(cfg.local_path, cfg.transport)
                sock.bind(cfg.local_path)
                self._unix_path_owned = cfg.local_path
            else:
                sock.bind("")  # Linux autobind: an abstract name, so peers can reply
            self._dgram_target = cfg.path or None
        else:
            target = None
            if cfg.host and int(cfg.port):
                target = resolve(cfg.host, cfg.port, cfg.family, cfg.transport)[0]
            family = target[0] if target else (
                socket.AF_INET6 if cfg.family == "ipv6" else socket.AF_INET)
            if cfg.local_host:
                family, addr = resolve(cfg.local_host, cfg.local_port, cfg.family,
                                       cfg.transport, passive=True)[0]
            else:
                addr = (_default_bind_host(family, target[1] if target else None),
                        check_port(cfg.local_port, "Local port", allow_zero=True))
            sock = self._new_socket(family)
            if cfg.host == BROADCAST and not cfg.options.get("SO_BROADCAST"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                cfg.options["SO_BROADCAST"] = 1
                self._log("SO_BROADCAST turned on: the target is <broadcast>.")
            sock.bind(addr)
            self._dgram_target = target[1] if target else None
        sock.setblocking(False)
        with self._lock:
            self._main = sock
        self.local_address = format_address(sock.getsockname())
        self._sel.register(sock, selectors.EVENT_READ, self._dgram_readable)  # type: ignore
        wildcard = self.local_address.startswith(("0.0.0.0:", "[::]:"))
        self.post(LocalAddress(source=self.source, address=self.local_address,
                               note="any local address" if wildcard else ""))


    def _dgram_readable(self, mask: int) -> None:
        sock = self._main
        assert sock is not None
        for _ in range(256):  # drain a burst, then let the loop breathe
            if self.outbox.qsize() > MAX_DGRAM_BACKLOG:
                return  # the kernel buffer fills and drops: UDP has no push-back
            try:
                data, addr = sock.recvfrom(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # ICMP port unreachable from an earlier sendto surfaces here
                self._fail(exc, format_address(self._dgram_target) if self._dgram_target
                           else "")
                return
            label = format_address(addr) if addr else "unnamed"
            if addr and label not in self._dgram_peers:
                with self._lock:
                    self._dgram_peers[label] = addr
            self.post(DataReceived(source=self.source, data=data, peer=label))
            if addr:
                self._auto_reply(data, label)

    def _sendto(self, data: bytes, peer: str | None) -> None:
        sock = self._main
        assert sock is not None
        if peer is None:
            addr = self._dgram_target
            if addr is None:
                raise UserError("No target: fill in host and port (or path) to send to.",
                                "Host" if not is_unix(self.config.transport) else "Path")
        elif peer in self._dgram_peers:
            addr = self._dgram_peers[peer]
        else:
            addr = parse_address(peer, self.config.transport)
            if not is_unix(self.config.transport):
                addr = resolve(addr[0], addr[1], self.config.family, "udp")[0][1]
        label = format_address(addr)
        if len(data) > 65507:
            raise UserError(f"{len(data)} bytes do not fit in one datagram (65507 at most); "
                            "send less or use TCP.", "Payload")
        try:
            sock.sendto(data, addr)
        except OSError as exc:
            self._fail(exc, label)
            return
        self.post(DataSent(source=self.source, data=data, peer=label))


def _default_bind_host(family: int, target: Address | None) -> str:
    """Loopback unless the target needs more: a safe default that still gets replies.

    With no target (waiting for datagrams) or a loopback target, only this machine can
    reach the socket; to send elsewhere the kernel needs the wildcard, as it would pick.
    """
    v6 = family == socket.AF_INET6
    if target is None or ipaddress.ip_address(target[0].split("%")[0]).is_loopback:
        return "::1" if v6 else "127.0.0.1"
    return "::" if v6 else "0.0.0.0"

