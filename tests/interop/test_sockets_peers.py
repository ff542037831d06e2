"""The socket session (core/sockets) against socat, ncat and ``openssl s_server``.

socat echoes over TCP, UDP and UNIX stream; ``openssl s_server`` serves a self-signed
certificate (refused with verification on, accepted with that certificate as the CA file);
ncat is a client of our listener, in clear and over TLS.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.events import DataReceived, DataSent
from core.sockets import LocalAddress, PeerClosed, SocketConfig, SocketSession, TlsEstablished
from tests.core.sockets.conftest import Watch
from tests.interop.conftest import LOOPBACK, peer_binary, tcp_answers
from tests.interop.vsftpd_peer import pattern_bytes, sha256_bytes

PEER_DEADLINE = 20.0


@pytest.fixture
def watched() -> Iterator[tuple[SocketSession, Watch]]:
    session = SocketSession()
    yield session, Watch(session)
    session.close()


def udp_echoes(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.sendto(b"probe", (LOOPBACK, port))
            return probe.recv(16) == b"probe"
        except OSError:
            return False


def unix_answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
            return True
        except OSError:
            return False


def test_tcp_megabyte_echoed_by_socat(start_daemon, watched) -> None:
    session, watch = watched
    socat = peer_binary("socat")
    peer = start_daemon("socat-tcp", lambda port: [
        socat, f"TCP-LISTEN:{port},bind={LOOPBACK},reuseaddr,fork", "PIPE"])
    payload = pattern_bytes(1_000_000, b"tcp")
    session.connect(SocketConfig(host=LOOPBACK, port=peer.port))
    watch.state("Established")
    session.send(payload)
    watch.until(lambda e: len(watch.received()) >= len(payload), timeout=PEER_DEADLINE)
    assert sha256_bytes(watch.received()) == sha256_bytes(payload)
    session.shutdown("write")  # socat sees EOF, finishes echoing and closes its side
    watch.until(lambda e: isinstance(e, PeerClosed), timeout=PEER_DEADLINE)
    assert watch.received() == payload


def test_udp_datagrams_echoed_by_socat(start_daemon, watched) -> None:
    session, watch = watched
    socat = peer_binary("socat")
    peer = start_daemon("socat-udp", lambda port: [
        socat, f"UDP-RECVFROM:{port},bind={LOOPBACK},fork", "PIPE"],
        ready=udp_echoes, kind=socket.SOCK_DGRAM)
    session.open_datagram(SocketConfig(transport="udp", host=LOOPBACK, port=peer.port))
    watch.until(lambda e: isinstance(e, LocalAddress))
    datagrams = [b"first datagram", b"\x00\xffbinary\r\n", b"x" * 1400]
    for datagram in datagrams:
        session.send(datagram)
        watch.until(lambda e, d=datagram: isinstance(e, DataReceived) and e.data == d,
                    timeout=PEER_DEADLINE)
    got = [e.data for e in watch.of(DataReceived)]
    assert got == datagrams  # one datagram each, boundaries kept
    assert {e.peer for e in watch.of(DataReceived)} == {f"{LOOPBACK}:{peer.port}"}


def test_unix_stream_echoed_by_socat(start_daemon, watched, tmp_path: Path) -> None:
    session, watch = watched
    socat = peer_binary("socat")
    path = tmp_path / "echo.sock"
    start_daemon("socat-unix", lambda port: [socat, f"UNIX-LISTEN:{path},fork", "PIPE"],
                 ready=lambda port: unix_answers(path))
    payload = pattern_bytes(200_000, b"unix")
    session.connect(SocketConfig(transport="unix-stream", path=str(path)))
    watch.state("Established")
    session.send(payload)
    watch.until(lambda e: len(watch.received()) >= len(payload), timeout=PEER_DEADLINE)
    assert watch.received() == payload


# -- TLS against openssl s_server ------------------------------------------------------------
@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost/127.0.0.1 made by the openssl CLI."""
    cert, key = tmp_path / "self.pem", tmp_path / "self.key"
    subprocess.run([peer_binary("openssl"), "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def start_s_server(start_daemon, cert: Path, key: Path):
    openssl = peer_binary("openssl")
    # -rev: every line comes back reversed, so the echo proves the peer read it
    return start_daemon("s_server", lambda port: [
        openssl, "s_server", "-accept", f"{LOOPBACK}:{port}", "-cert", str(cert),
        "-key", str(key), "-rev", "-quiet"], ready=tcp_answers)


def test_openssl_s_server_self_signed_is_refused_with_verification_on(
        start_daemon, watched, self_signed) -> None:
    session, watch = watched
    peer = start_s_server(start_daemon, *self_signed)
    session.connect(SocketConfig(host=LOOPBACK, port=peer.port, tls=True))
    message = watch.failed().message
    assert "certificate rejected" in message and "CA file" in message
    assert not watch.of(TlsEstablished) and not watch.received()


def test_openssl_s_server_with_its_certificate_as_ca_file(start_daemon, watched,
                                                          self_signed) -> None:
    session, watch = watched
    cert, key = self_signed
    peer = start_s_server(start_daemon, cert, key)
    session.connect(SocketConfig(host=LOOPBACK, port=peer.port, tls=True, ca_file=str(cert),
                                 server_name="localhost"))
    info = watch.until(lambda e: isinstance(e, TlsEstablished), timeout=PEER_DEADLINE).info
    assert info["version"].startswith("TLSv1.") and "localhost" in info["subject"]
    session.send(b"hello over tls\n")
    watch.wait_bytes(b"slt revo olleh\n")


# -- ncat as a client of our listener --------------------------------------------------------
def listener_port(session: SocketSession, watch: Watch, config: SocketConfig) -> int:
    session.listen(config)
    address = watch.until(lambda e: isinstance(e, LocalAddress)).address
    return int(address.rsplit(":", 1)[1])


@pytest.mark.parametrize("tls", [False, True], ids=["clear", "tls"])
def test_ncat_client_talks_to_our_listener(watched, tls: bool) -> None:
    session, watch = watched
    port = listener_port(session, watch, SocketConfig(host=LOOPBACK, port=0, tls=tls))
    argv = [peer_binary("ncat"), *(["--ssl"] if tls else []), LOOPBACK, str(port)]
    ncat = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        ncat.stdin.write(b"hello from ncat\n")
        ncat.stdin.flush()
        watch.wait_bytes(b"hello from ncat\n")
        (peer,) = session.peers()
        session.send(b"hello from wirebench\n", peer)
        if tls:  # TLS has no half-close: drop the peer (with close_notify) once sent
            watch.until(lambda e: isinstance(e, DataSent))
            session.drop(peer)
        else:
            session.shutdown("write", peer)  # our FIN: ncat prints what it got and exits
        ncat.stdin.close()
        out = ncat.stdout.read()
        code = ncat.wait(timeout=PEER_DEADLINE)
    finally:
        if ncat.poll() is None:
            ncat.kill()
            ncat.wait()
        err = ncat.stderr.read()
        ncat.stdout.close()
        ncat.stderr.close()
    # ncat exits 0 only after a clean end (TLS: close_notify); it printed our bytes
    assert (out, code) == (b"hello from wirebench\n", 0), err
    assert watch.received() == b"hello from ncat\n"
    if tls:
        assert watch.of(TlsEstablished)
