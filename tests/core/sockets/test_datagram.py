"""SocketSession datagrams against real peers: UDP with recvfrom addresses, broadcast, UNIX."""

from __future__ import annotations

import socket
from pathlib import Path

from core.events import Closed, DataReceived, DataSent, Failed
from core.sockets import LocalAddress, SocketConfig, SocketSession
from tests.core.sockets.conftest import Watch
from tests.fixtures.socket_peers import EchoPeer


def test_udp_with_recvfrom_address(session, udp_echo: EchoPeer) -> None:
    s, w = session
    s.open_datagram(SocketConfig(transport="udp", host="127.0.0.1", port=udp_echo.port))
    w.state("Bound")
    local = w.until(lambda e: isinstance(e, LocalAddress)).address
    s.send(b"datagram one")
    w.wait_bytes(b"datagram one")
    got = w.of(DataReceived)[0]
    assert got.peer == f"127.0.0.1:{udp_echo.port}"  # the recvfrom address, shown per chunk
    assert udp_echo.sources[0][1] == int(local.rsplit(":", 1)[1])
    s.send(b"to an address", peer=f"127.0.0.1:{udp_echo.port}")
    w.wait_bytes(b"to an address")


def test_udp_broadcast_needs_so_broadcast(session) -> None:
    """EACCES on sendto <broadcast> without SO_BROADCAST, then success once it is on."""
    s, w = session
    s.open_datagram(SocketConfig(transport="udp", host="", port=0, local_host="127.0.0.1"))
    w.state("Bound")
    s.send(b"x", peer="255.255.255.255:9")
    failure = w.failed()
    assert "SO_BROADCAST" in failure.message and "Permission denied" in failure.message
    assert s.set_option("SO_BROADCAST", True)["SO_BROADCAST"] == 1
    s.close()
    w.until(lambda e: isinstance(e, Closed))
    # <broadcast> as the target turns SO_BROADCAST on by itself
    s2 = SocketSession()
    w2 = Watch(s2)
    try:
        s2.open_datagram(SocketConfig(transport="udp", host="<broadcast>", port=9))
        w2.until(lambda e: isinstance(e, LocalAddress))
        assert s2.get_options()["SO_BROADCAST"] == 1
        s2.send(b"hello all")
        w2.until(lambda e: isinstance(e, DataSent | Failed))
        assert not w2.of(Failed) or "Permission" not in w2.of(Failed)[0].message
    finally:
        s2.close()



def test_unix_datagram_round_trip(session, unix_dir: Path) -> None:
    s, w = session
    path = str(unix_dir / "dgram.sock")
    peer = EchoPeer(family=socket.AF_UNIX, kind=socket.SOCK_DGRAM, address=path)
    try:
        s.open_datagram(SocketConfig(transport="unix-dgram", path=path,
                                     local_path=str(unix_dir / "me.sock")))
        w.state("Bound")
        s.send(b"unix datagram")
        w.wait_bytes(b"unix datagram")
        assert w.of(DataReceived)[0].peer == path
        assert peer.sources == [str(unix_dir / "me.sock")]
    finally:
        s.close()
        peer.close()

