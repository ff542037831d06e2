"""The lab DNS server's sockets: a UDP group per address, and TCP with deadlines.

UDP: several sockets share each port (SO_REUSEPORT) so one flooding client fills only
its own queue. TCP (RFC 7766): a message is a two-byte length and that many bytes; its
first byte may take the idle timeout to come, then the whole message must arrive within
the I/O timeout, so a client dripping a byte at a time cannot hold a connection slot
(Knot's tcp-io-timeout).
"""

from __future__ import annotations

import socket
import struct
import time

#: a UDP receive buffer that absorbs a burst of queries while the thread is busy (BIND
#: and Unbound ask for a few megabytes: Unbound's so-rcvbuf example is 4m)
UDP_RECEIVE_BUFFER = 4 * 1024 * 1024


#: UDP sockets per listener address. The kernel spreads datagrams over them by source
#: address and port (SO_REUSEPORT, as BIND and Knot use it), so one client flooding
#: overflows only its own socket's queue, and others' queries still get in
UDP_SOCKETS = 32
REUSEPORT = getattr(socket, "SO_REUSEPORT", None)


def udp_socket(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if REUSEPORT is not None:
            sock.setsockopt(socket.SOL_SOCKET, REUSEPORT, 1)
        sock.bind((host, port))
        sock.setblocking(False)
        _enlarge_receive_buffer(sock)
    except OSError:
        sock.close()
        raise
    return sock


def _enlarge_receive_buffer(sock: socket.socket) -> None:
    force = getattr(socket, "SO_RCVBUFFORCE", None)  # above rmem_max: needs privilege
    for option in (force, socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, UDP_RECEIVE_BUFFER)
            return
        except OSError:
            continue


class TcpClient:
    """One TCP/DoT/DoH connection holding a slot, and when it last moved a message."""

    __slots__ = ("sock", "last_active", "evicted")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.last_active = time.monotonic()
        self.evicted = False


def read_message(conn: socket.socket, idle_timeout: float,
                  io_timeout: float) -> bytes | None:
    """One length-prefixed message: its first byte within ``idle_timeout``, all of it
    within ``io_timeout`` after that (raises TimeoutError); None at EOF."""
    conn.settimeout(idle_timeout)
    first = conn.recv(2)
    if not first:
        return None
    deadline = time.monotonic() + io_timeout
    head = recv_exact(conn, first, 2, deadline)
    if head is None:
        return None
    return recv_exact(conn, b"", struct.unpack("!H", head)[0], deadline)


def recv_exact(conn: socket.socket, start: bytes, size: int, deadline: float) -> bytes | None:
    data = bytearray(start)
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("message not complete in time")
        conn.settimeout(left)
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)
