"""The controller contract and the lab registry, with a real (tiny) TCP server."""

from __future__ import annotations

import socket
import threading

import pytest

from core.events import ServerStarted, ServerStats, ServerStopped
from core.servers.base import ServerController, ServerStartError
from core.servers.registry import SERVER_MODULES, LabRegistry, serve_kinds
from core.worker import drain


class GreetingServer(ServerController):
    """Says hello to every client: enough to exercise the contract for real."""

    kind = "greeting"
    title = "Greeting"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> None:
        sock = socket.socket()
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        sock.settimeout(0.1)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="greeting", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self._sock is not None
        while self._sock.fileno() != -1:
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.count(opened=1, bytes_out=6, requests=1)
            with conn:
                conn.sendall(b"hello\n")
            self.count(closed=1)

    def _stop(self, timeout: float) -> None:
        if self._sock is not None:
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None


def test_start_talk_stats_stop() -> None:
    server = GreetingServer()
    address = server.start()
    assert address == f"127.0.0.1:{server.port}" and server.port > 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        assert client.recv(10) == b"hello\n"
    stats = server.stats()
    assert stats.requests == 1 and stats.bytes_out == 6
    server.stop()
    assert not server.running
    kinds = [type(e) for e in drain(server.outbox)]
    assert ServerStarted in kinds and ServerStopped in kinds


def test_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerStartError) as info:
            GreetingServer(port=port).start()
    assert f"Port {port}" in str(info.value) and "in use" in str(info.value)
    assert info.value.field_name == "Port"


def test_stats_ticker_posts_every_second() -> None:
    server = GreetingServer()
    with server:
        threading.Event().wait(1.3)
    assert any(isinstance(e, ServerStats) for e in drain(server.outbox))


def test_lab_registry_starts_all_and_reports_each_failure() -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    busy_port = blocker.getsockname()[1]

    def factory(host: str, ephemeral: bool) -> list[ServerController]:
        ok = GreetingServer(host=host, port=0)
        clash = GreetingServer(host=host, port=busy_port)
        clash.kind = "greeting-clash"
        return [ok, clash]

    registry = LabRegistry(factories=[factory], ephemeral=True)
    try:
        errors = registry.start_all()
        assert list(errors) == ["greeting-clash"] and "in use" in errors["greeting-clash"]
        assert [p.kind for p in registry.running()] == ["greeting"]
        assert registry.peer("greeting") is registry.running()[0]
    finally:
        registry.stop_all()
        blocker.close()
    assert registry.running() == []


def test_registry_lists_only_modules_that_exist() -> None:
    assert all(name.startswith("core.servers.") for name in SERVER_MODULES)
    for name, kind in serve_kinds().items():
        assert name and kind.help and callable(kind.build)


def test_tab_servers_build_real_servers_from_their_forms(tmp_path) -> None:
    from core.errors import UserError
    from core.servers.registry import tab_servers

    kinds = {kind.key: kind for kind in tab_servers()}
    assert list(kinds) == ["echo-tcp", "echo-udp", "echo-unix", "cgi"]
    for kind in kinds.values():
        assert set(kind.defaults) >= set(kind.fields) and kind.about
    tcp = kinds["echo-tcp"].build({**kinds["echo-tcp"].defaults, "port": "0"})
    tcp.start()
    try:
        with socket.create_connection(("127.0.0.1", tcp.port), timeout=5) as client:
            client.sendall(b"ping")
            assert client.recv(4) == b"ping"
    finally:
        tcp.stop()
    with pytest.raises(UserError) as info:
        kinds["echo-udp"].build({**kinds["echo-udp"].defaults, "port": "70000"})
    assert info.value.field_name == "Port"
    with pytest.raises(UserError, match="is not a folder") as info:
        kinds["cgi"].build({**kinds["cgi"].defaults, "root": str(tmp_path / "none")})
    assert info.value.field_name == "Document root"


def test_the_lab_ca_is_trusted_for_lab_peers_only() -> None:
    import ftplib
    import ssl

    from core.servers.ftp_lab import lab_peers as ftp_lab_peers
    from core.servers.lab_account import LAB_PASSWORD, LAB_USER
    from core.tlscerts import client_context

    registry = LabRegistry(factories=[ftp_lab_peers], ephemeral=True)
    try:
        assert registry.start_all() == {}
        port = registry.peer("ftp").port
        with socket.socket() as other:  # not a lab peer: no lab trust for it
            other.bind(("127.0.0.1", 0))
            assert registry.ca_for("127.0.0.1", other.getsockname()[1]) is None
        assert registry.ca_for("127.0.0.1", "not a port") is None
        ca = registry.ca_for("localhost", port)
        assert ca is not None and registry.ca_for(" 127.0.0.1 ", str(port)) == ca

        def login(context: ssl.SSLContext) -> str:
            with ftplib.FTP_TLS(context=context, timeout=5) as ftp:
                ftp.connect("127.0.0.1", port)
                ftp.auth()
                return ftp.login(LAB_USER, LAB_PASSWORD)

        with pytest.raises(ssl.SSLCertVerificationError):
            login(client_context(verify=True))  # the system CAs alone reject the lab
        assert login(client_context(verify=True, ca_file=ca)).startswith("230")
    finally:
        registry.stop_all()
