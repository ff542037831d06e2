"""SocketSession against real sockets: TCP, listener, UDP, UNIX, half-close, TLS, states."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.events import Closed, Connected, DataSent, StateChanged
from core.sockets import (
    AutoReply,
    LocalAddress,
    PeerClosed,
    RepeatPlan,
    SocketConfig,
    SocketSession,
    TlsEstablished,
)
from core.states import StateError
from tests.core.sockets.conftest import Watch, tls_client_of_listener
from tests.fixtures.socket_peers import EchoPeer

ROOT = Path(__file__).resolve().parents[3]


def test_tcp_echo_round_trip(session, tcp_echo: EchoPeer) -> None:
    s, w = session
    s.connect(SocketConfig(host="127.0.0.1", port=tcp_echo.port))
    w.state("Established")
    assert [e.state for e in w.of(StateChanged)] == ["Connecting", "Established"]
    connected = w.until(lambda e: isinstance(e, Connected))
    assert connected.peer == f"127.0.0.1:{tcp_echo.port}"
    s.send(b"hello\r\n")
    w.wait_bytes(b"hello\r\n")
    assert b"".join(e.data for e in w.of(DataSent)) == b"hello\r\n"
    s.close()
    w.until(lambda e: isinstance(e, Closed))
    assert s.state.name == "Closed"


def test_tcp_over_ipv6(session) -> None:
    s, w = session
    peer = EchoPeer(family=socket.AF_INET6, address=("::1", 0))
    try:
        s.connect(SocketConfig(host="::1", port=peer.port, family="ipv6"))
        w.state("Established")
        s.send(b"six")
        w.wait_bytes(b"six")
        assert w.of(Connected)[0].peer == f"[::1]:{peer.port}"
    finally:
        s.close()
        peer.close()


def test_listener_with_three_clients(session) -> None:
    s, w = session
    s.listen(SocketConfig(host="127.0.0.1", port=0))
    bound = w.until(lambda e: isinstance(e, LocalAddress))
    port = int(bound.address.rsplit(":", 1)[1])
    assert port > 0 and s.state.name == "Listening"
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    try:
        w.until(lambda e: len(w.of(Connected)) == 3)
        labels = {f"127.0.0.1:{c.getsockname()[1]}": c for c in clients}
        assert set(s.peers()) == set(labels)
        for label, client in labels.items():
            client.sendall(f"from {label}".encode())
        for label in labels:
            w.wait_bytes(f"from {label}".encode(), peer=label)
        first = sorted(labels)[0]
        s.send(b"just you", peer=first)
        assert labels[first].recv(100) == b"just you"
        s.send(b"everyone")
        for client in clients:
            data = b""
            while not data.endswith(b"everyone"):
                data += client.recv(100)
        s.drop(first)
        w.until(lambda e: isinstance(e, PeerClosed) and e.peer == first)
        assert labels[first].recv(100) == b""  # the dropped client reads EOF
        assert first not in s.peers() and len(s.peers()) == 2
    finally:
        for client in clients:
            client.close()


def test_listener_auto_reply_and_peer_hangup(session) -> None:
    s, w = session
    s.set_auto_replies([AutoReply.create("PING", "PONG\\n"),
                        AutoReply.create(r"GET /\\w+", "HTTP/1.0 200 OK\\r\\n", regex=True)])
    s.listen(SocketConfig(host="127.0.0.1", port=0))
    port = int(w.until(lambda e: isinstance(e, LocalAddress)).address.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"PING")
        assert client.recv(100) == b"PONG\n"
        client.sendall(b"GET /index")
        assert client.recv(100) == b"HTTP/1.0 200 OK\r\n"
    w.until(lambda e: isinstance(e, PeerClosed))
    assert s.peers() == [] and s.state.name == "Listening"


def test_unix_stream_client_and_listener(session, unix_dir: Path) -> None:
    s, w = session
    path = str(unix_dir / "echo.sock")
    peer = EchoPeer(family=socket.AF_UNIX, address=path)
    try:
        s.connect(SocketConfig(transport="unix-stream", path=path))
        w.state("Established")
        s.send(b"over unix")
        w.wait_bytes(b"over unix")
    finally:
        s.close()
        peer.close()
    listener = SocketSession()
    lw = Watch(listener)
    lpath = str(unix_dir / "listen.sock")
    try:
        listener.listen(SocketConfig(transport="unix-stream", path=lpath))
        lw.until(lambda e: isinstance(e, LocalAddress))
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(lpath)
            client.sendall(b"hi listener")
            lw.wait_bytes(b"hi listener")
            listener.send(b"hi client")
            assert client.recv(100) == b"hi client"
    finally:
        listener.close()
    assert not os.path.exists(lpath)  # the listener removes its socket file


def test_unix_path_rules(session, unix_dir: Path) -> None:
    s, w = session
    with pytest.raises(Exception, match="limited to 107 bytes"):
        s.listen(SocketConfig(transport="unix-stream", path="/tmp/" + "x" * 120))
    # a stale socket file (no listener) is replaced ...
    stale = str(unix_dir / "stale.sock")
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(stale)
    dead.close()
    assert os.path.exists(stale)
    s.listen(SocketConfig(transport="unix-stream", path=stale))
    w.until(lambda e: isinstance(e, LocalAddress))
    # ... a live one is not
    other = SocketSession()
    ow = Watch(other)
    other.listen(SocketConfig(transport="unix-stream", path=stale))
    assert "is in use" in ow.failed().message
    ow.closed()
    # and a regular file is never removed
    plain = unix_dir / "file.txt"
    plain.write_text("keep me")
    other.listen(SocketConfig(transport="unix-stream", path=str(plain)))
    assert "not a socket" in ow.failed(fresh=True).message
    assert plain.read_text() == "keep me"
    other.close()


def test_half_close_then_still_receiving(session) -> None:
    s, w = session
    release = threading.Event()
    peer = EchoPeer(reply_after_eof=b"bye after your FIN", hold=release)
    try:
        s.connect(SocketConfig(host="127.0.0.1", port=peer.port))
        w.state("Established")
        s.send(b"last words")
        s.shutdown("write")
        assert s.state.name == "WriteShut"
        with pytest.raises(StateError, match="write side shut"):
            s.send(b"too late")
        w.wait_bytes(b"last wordsbye after your FIN")
        assert peer.eof.is_set() and bytes(peer.received) == b"last words"
        assert s.state.name == "WriteShut"
        release.set()
        w.until(lambda e: isinstance(e, Closed))  # the peer's FIN completes the close
    finally:
        peer.close()


@pytest.fixture
def accepted(session) -> Iterator[socket.socket]:
    """The session connected to a plain server socket; yields the server's side."""
    s, w = session
    with socket.create_server(("127.0.0.1", 0)) as server:
        s.connect(SocketConfig(host="127.0.0.1", port=server.getsockname()[1]))
        conn, _ = server.accept()
        w.state("Established")
        with conn:
            yield conn


def test_peer_fin_leaves_us_able_to_send(session, accepted: socket.socket) -> None:
    s, w = session
    accepted.shutdown(socket.SHUT_WR)
    w.state("ReadShut")
    assert w.until(lambda e: isinstance(e, PeerClosed)).half
    s.send(b"still here")
    assert accepted.recv(100) == b"still here"


def test_tls_verifies_with_ca_and_fails_without(session, tls_echo: EchoPeer,
                                                trust_ca, tmp_path: Path) -> None:
    s, w = session
    ca_file = tmp_path / "ca.pem"
    trust_ca.cert_pem.write_to_path(str(ca_file))
    s.connect(SocketConfig(host="127.0.0.1", port=tls_echo.port, tls=True,
                           ca_file=str(ca_file), server_name="localhost"))
    tls = w.until(lambda e: isinstance(e, TlsEstablished))
    assert tls.info["version"].startswith("TLS") and tls.info["subject"]
    s.send(b"secret")
    w.wait_bytes(b"secret")
    s.close()
    w.until(lambda e: isinstance(e, Closed))

    bad = SocketSession()
    bw = Watch(bad)
    bad.connect(SocketConfig(host="127.0.0.1", port=tls_echo.port, tls=True,
                             server_name="localhost"))
    message = bw.failed().message
    assert "certificate rejected" in message and "CA file" in message
    bw.until(lambda e: isinstance(e, Closed))
    assert bad.state.name == "Closed"

    off = SocketSession()
    ow = Watch(off)
    try:
        off.connect(SocketConfig(host="127.0.0.1", port=tls_echo.port, tls=True,
                                 tls_verify=False))
        info = ow.until(lambda e: isinstance(e, TlsEstablished)).info
        assert info["verified"].startswith("no")
    finally:
        off.close()


def test_tls_listener_with_generated_certificate(session) -> None:
    s, w = session
    with tls_client_of_listener(s, w) as client:
        client.sendall(b"over tls")
        w.wait_bytes(b"over tls")
        s.send(b"back over tls")
        assert client.recv(100) == b"back over tls"


@pytest.mark.parametrize("how, state", [("read", "ReadShut"), ("write", "WriteShut")])
def test_listener_peer_half_close(session, how: str, state: str) -> None:
    s, w = session
    s.listen(SocketConfig(host="127.0.0.1", port=0))
    port = int(w.until(lambda e: isinstance(e, LocalAddress)).address.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        w.until(lambda e: isinstance(e, Connected))
        s.shutdown(how)
        if how == "write":
            assert client.recv(10) == b""  # FIN
            client.sendall(b"still talking")
            w.wait_bytes(b"still talking")
        else:
            s.send(b"read side shut, writes go")
            assert client.recv(100) == b"read side shut, writes go"


def test_errors_are_one_sentence(session, tcp_echo: EchoPeer) -> None:
    s, w = session
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    s.connect(SocketConfig(host="127.0.0.1", port=port))
    assert w.failed().message.startswith("Connection refused")
    w.closed()

    s.connect(SocketConfig(host="no-such-host.invalid", port=80))
    failure = w.failed(fresh=True)
    assert failure.message.startswith("Name not found") and "\n" not in failure.message
    w.closed()

    s.listen(SocketConfig(host="127.0.0.1", port=tcp_echo.port))
    failure = w.failed(fresh=True)
    assert failure.message.startswith("Address in use") and failure.field_name == "Port"
    w.closed()

    # TCP to a multicast address: the kernel has no route for it (ENETUNREACH)
    s.connect(SocketConfig(host="224.0.0.1", port=80))
    assert w.failed(fresh=True).message.startswith("Network unreachable")
    w.closed()

    # a listener whose accept queue is full drops further SYNs: the connect times out
    full = socket.create_server(("127.0.0.1", 0), backlog=0)
    waiting = []
    try:
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(full.getsockname())
            waiting.append(c)
        # backlog 0 keeps one: once the first is established the queue is full
        assert select.select([], waiting[:1], [], 5)[1], "the first connect never completed"
        s.connect(SocketConfig(host="127.0.0.1", port=full.getsockname()[1],
                               connect_timeout=0.5))
        failure = w.failed(fresh=True)
        assert failure.message.startswith("Timed out"), failure.message
        w.closed()
    finally:
        full.close()
        for c in waiting:
            c.close()


def test_reset_by_peer(session, accepted: socket.socket) -> None:
    _, w = session
    accepted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    accepted.close()  # linger 0: RST instead of FIN
    assert "reset by peer" in w.failed().message
    w.until(lambda e: isinstance(e, Closed))


def test_low_port_permission_denied_for_a_normal_user() -> None:
    """Binding port 80 as an unprivileged user gives the clear sentence (real kernel)."""
    script = (
        "import queue\n"
        "from core.sockets import SocketSession, SocketConfig\n"
        "from core.events import Failed\n"
        "s = SocketSession()\n"
        "s.listen(SocketConfig(host='127.0.0.1', port=80))\n"
        "while True:\n"
        "    e = s.outbox.get(timeout=10)\n"
        "    if isinstance(e, Failed):\n"
        "        print(e.message); break\n"
        "s.close()\n"
    )
    if os.geteuid() == 0:  # become nobody after the imports (root may bind anything)
        script = script.replace("s = SocketSession()",
                                "import os, encodings.idna; os.setgid(65534); os.setuid(65534)\n"
                                "s = SocketSession()")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=30,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.startswith("Permission denied"), out.stderr
    assert "above 1023" in out.stdout


def test_every_state_misuse_is_a_named_error(session) -> None:
    s, w = session
    quiet = socket.create_server(("127.0.0.1", 0))  # accepts, never answers, never closes
    misuse_closed = [(lambda: s.send(b"x"), "Cannot send while closed"),
                     (lambda: s.shutdown("write"), "Cannot shutdown write while closed"),
                     (lambda: s.shutdown("read"), "Cannot shutdown read while closed"),
                     (lambda: s.shutdown("both"), "Cannot shutdown both while closed"),
                     (lambda: s.start_repeat(RepeatPlan("x")), "Cannot send while closed")]
    for call, message in misuse_closed:
        with pytest.raises(StateError, match=message):
            call()
    s.connect(SocketConfig(host="127.0.0.1", port=quiet.getsockname()[1]))
    w.state("Established")
    config = SocketConfig(host="127.0.0.1", port=quiet.getsockname()[1])
    with pytest.raises(StateError, match="Cannot connect while established"):
        s.connect(config)
    with pytest.raises(StateError, match="Cannot listen while established"):
        s.listen(config)
    with pytest.raises(StateError, match="Cannot bind while established"):
        s.open_datagram(SocketConfig(transport="udp"))
    s.shutdown("write")
    with pytest.raises(StateError, match="Cannot send while half-closed"):
        s.send(b"x")
    with pytest.raises(StateError, match="Cannot shutdown write while half-closed"):
        s.shutdown("write")
    s.close()
    w.until(lambda e: isinstance(e, Closed))

    s.listen(SocketConfig(host="127.0.0.1", port=0))
    w.state("Listening")
    with pytest.raises(StateError, match="Cannot connect while listening"):
        s.connect(config)
    with pytest.raises(StateError, match="Cannot listen while listening"):
        s.listen(config)
    with pytest.raises(Exception, match="No client is connected"):
        s.send(b"x")
    s.close()
    w.until(lambda e: len(w.of(Closed)) == 2)

    s.open_datagram(SocketConfig(transport="udp", host="127.0.0.1", port=9))
    w.state("Bound")
    with pytest.raises(StateError, match="datagram sockets have no connection"):
        s.shutdown("write")
    with pytest.raises(StateError, match="Cannot connect while bound"):
        s.connect(config)
    quiet.close()


def test_bad_input_is_rejected_in_the_callers_thread(session) -> None:
    s, _ = session
    with pytest.raises(Exception, match="Port must be 1–65535, got 70000"):
        s.connect(SocketConfig(port=70000))
    with pytest.raises(Exception, match="TLS needs TCP"):
        s.open_datagram(SocketConfig(transport="udp", tls=True))
    with pytest.raises(Exception, match="Mode must be one of"):
        s.connect(SocketConfig(transport="sctp", port=1))
    with pytest.raises(Exception, match="SO_RCVBUF must be a number"):
        s.set_option("SO_RCVBUF", "lots")
    assert s.state.name == "Closed"


def test_options_set_and_read_back(session, tcp_echo: EchoPeer) -> None:
    s, w = session
    s.set_option("TCP_NODELAY", True)  # pending until the socket exists
    s.connect(SocketConfig(host="127.0.0.1", port=tcp_echo.port,
                           options={"SO_KEEPALIVE": 1, "SO_RCVBUF": 65536}))
    w.state("Established")
    values = s.get_options()
    assert values["SO_KEEPALIVE"] == 1 and values["TCP_NODELAY"] == 1
    assert values["SO_RCVBUF"] >= 65536  # Linux doubles it for bookkeeping
    assert s.set_option("SO_KEEPALIVE", False)["SO_KEEPALIVE"] == 0


def test_plain_listener_after_a_tls_one_serves_plain_clients(session) -> None:
    s, w = session
    s.listen(SocketConfig(host="127.0.0.1", port=0, tls=True))
    w.until(lambda e: isinstance(e, LocalAddress))
    s.close()
    w.closed()
    s.listen(SocketConfig(host="127.0.0.1", port=0))  # tls=False: no context kept
    port = int(w.until(lambda e: isinstance(e, LocalAddress), fresh=True)
               .address.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"plain text")
        w.wait_bytes(b"plain text")
        s.send(b"plain reply")
        assert client.recv(100) == b"plain reply"
