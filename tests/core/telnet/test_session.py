"""TelnetSession over real sockets: the lab server, scripted peers, a local HTTP server."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.errors import UserError
from core.events import Closed, Connected, Failed
from core.servers.telnet_lab import TelnetLabServer
from core.telnet.protocol import BINARY, DO, DONT, ECHO, IAC, SGA, WILL, WONT, Negotiation
from core.telnet.received import open_in_browser
from core.telnet.session import InputModeChanged, TelnetSession, TerminalFrame
from core.telnet.settings import TelnetSettings
from core.tlscerts import self_signed
from tests.fixtures.telnet_peers import ScriptedPeer
from tests.fixtures.waiting import EventCollector, wait_for


class Collector(EventCollector):
    """The session's events so far; waits show the screen when they time out."""

    def __init__(self, session: TelnetSession) -> None:
        super().__init__(session.outbox)
        self.session = session

    def until(self, cond: Callable[[], object], timeout: float = 10.0) -> None:
        wait_for(cond, timeout, lambda: f"not met in {timeout} s; screen:\n" + self.screen(),
                 pump=self.pump)

    def texts(self) -> list[str]:
        return [e.text for e in self.pump() if isinstance(e, Negotiation)]

    def screen(self) -> str:
        return "\n".join(self.session.screen.display_text())


@pytest.fixture
def session() -> Iterator[TelnetSession]:
    s = TelnetSession()
    yield s
    s.close()


def login(c: Collector) -> None:
    c.until(lambda: "login:" in c.screen())
    c.session.send_text("lab\r")
    c.until(lambda: "Password:" in c.screen())
    c.session.send_text("wirebench\r")
    c.until(lambda: "lab@wirebench" in c.screen())


def test_negotiation_with_the_lab_server(session: TelnetSession,
                                         telnet_lab: TelnetLabServer) -> None:
    c = Collector(session)
    session.connect(TelnetSettings(port=telnet_lab.port, columns=100, rows=30))
    c.until(lambda: "login:" in c.screen())
    c.until(lambda: session.protocol.remote_enabled(ECHO))
    texts = c.texts()
    # NAWS values arrive at the server, TTYPE is answered, ECHO and SGA are agreed
    assert (100, 30) in telnet_lab.naws_seen
    assert "xterm-256color" in telnet_lab.ttypes_seen
    assert "sent SB NAWS 100 30" in texts
    assert "recv SB TTYPE SEND" in texts and "sent SB TTYPE IS xterm-256color" in texts
    assert "recv WILL ECHO" in texts and "sent DO ECHO" in texts
    assert session.protocol.remote_enabled(SGA) and session.character_mode
    # the lab server asks DO BINARY: Enter is a bare CR (RFC 856), not NVT's CR NUL
    assert session.protocol.local_enabled(BINARY) and session.enter_bytes == b"\r"
    assert any(isinstance(e, Connected) for e in c.events)
    # a resize is sent again as NAWS and the server sees it
    session.resize(90, 20)
    c.until(lambda: telnet_lab.naws_seen[-1:] == [(90, 20)])
    assert "sent SB NAWS 90 20" in c.texts()
    login(c)
    session.send_text("size\r")
    c.until(lambda: "90 columns x 20 rows, TERM=xterm-256color" in c.screen())


def test_vt100_terminal_type_is_reported(session: TelnetSession,
                                         telnet_lab: TelnetLabServer) -> None:
    c = Collector(session)
    session.connect(TelnetSettings(port=telnet_lab.port, terminal_type="vt100"))
    c.until(lambda: "vt100" in telnet_lab.ttypes_seen)


def test_frames_carry_colours_and_only_dirty_lines(session: TelnetSession,
                                                   telnet_lab: TelnetLabServer) -> None:
    c = Collector(session)
    session.connect(TelnetSettings(port=telnet_lab.port))
    login(c)
    before = len([e for e in c.events if isinstance(e, TerminalFrame)])
    session.send_text("colors\r")

    def new_frames() -> list[TerminalFrame]:
        return [e for e in c.pump() if isinstance(e, TerminalFrame)][before:]

    def painted(text: str) -> bool:
        return any(text in "".join(t for t, _ in runs)
                   for f in new_frames() for _, runs in f.lines)

    c.until(lambda: painted("true colour") and painted("bold underlined"))
    frames = new_frames()
    styles = {style for f in frames for _, runs in f.lines for _, style in runs}
    fgs = {s.fg for s in styles}
    bgs = {s.bg for s in styles}
    assert "red" in fgs and "brightred" in fgs
    assert any(len(b) == 6 for b in bgs)  # 256-colour cube / true colour as hex
    assert any(s.bold for s in styles) and any(s.underscore for s in styles)
    assert any(s.reverse for s in styles)
    # frames are incremental: no frame repaints more lines than the screen has
    assert all(len(f.lines) <= f.rows for f in frames)


def test_wont_dont_peer_does_not_loop(session: TelnetSession,
                                      scripted_peer: Callable[..., ScriptedPeer]) -> None:
    """The peer answers every WONT with DONT (and DONT with WONT), like a naive server."""
    answered = []

    def script(conn: socket.socket, peer: ScriptedPeer) -> None:
        conn.sendall(bytes((IAC, DO, 5, IAC, WILL, 34, IAC, DO, 35)) + b"hello\r\n")
        seen = 0
        while not peer.stop.is_set():
            peer.recv_some(conn)
            with peer.lock:
                data = bytes(peer.received)
            reply = bytearray()
            for i in range(seen, len(data) - 2):
                if data[i] == IAC and data[i + 1] in (WONT, DONT):
                    answer = DONT if data[i + 1] == WONT else WONT
                    reply += bytes((IAC, answer, data[i + 2]))
                    answered.append((data[i + 1], data[i + 2]))
            seen = max(seen, len(data) - 2)
            if reply:
                conn.sendall(bytes(reply))

    peer = scripted_peer(script)
    c = Collector(session)
    session.connect(TelnetSettings(port=peer.port))
    c.until(lambda: "hello" in c.screen())
    time.sleep(0.5)  # a loop would keep both sides busy sending here
    with peer.lock:
        first = len(peer.received)
    time.sleep(0.5)
    with peer.lock:
        assert len(peer.received) == first, "the client keeps negotiating"
    sent = [t for t in c.texts() if t.startswith("sent")]
    assert len(sent) < 20, sent
    assert sent.count("sent WONT STATUS") == 1


def test_terminal_queries_are_answered(session: TelnetSession,
                                       scripted_peer: Callable[..., ScriptedPeer]) -> None:
    peer = scripted_peer(ScriptedPeer.greeter(b"abc\x1b[6n\x1b[c"))
    session.connect(TelnetSettings(port=peer.port, active=False))
    assert peer.wait_for(b"\x1b[1;4R"), peer.received  # cursor after "abc"
    assert peer.wait_for(b"\x1b[?62;22c")


def test_line_mode_edits_locally_and_sends_crlf(
        session: TelnetSession, scripted_peer: Callable[..., ScriptedPeer]) -> None:
    peer = scripted_peer(ScriptedPeer.greeter(b"> "))
    c = Collector(session)
    session.connect(TelnetSettings(port=peer.port, active=False))
    c.until(lambda: ">" in c.screen())
    assert not session.character_mode and session.local_echo
    session.send_text("abx\x7fc\r")
    assert peer.wait_for(b"abc\r\n")
    c.until(lambda: "> abc" in c.screen())  # local echo, with the erase applied
    assert b"abx" not in bytes(peer.received)


def test_special_commands_keepalive_and_latin1(
        session: TelnetSession, scripted_peer: Callable[..., ScriptedPeer]) -> None:
    peer = scripted_peer(ScriptedPeer.greeter(b"caf\xe9 \xff\xff\r\n"))
    c = Collector(session)
    session.connect(TelnetSettings(port=peer.port, active=False, encoding="latin-1",
                                   keepalive=0.2))
    c.until(lambda: "café ÿ" in c.screen())
    session.send_text("ÿ\r")  # latin-1 0xff is a data byte: doubled on the wire
    assert peer.wait_for(b"\xff\xff\r\n")
    session.special("AYT")
    session.special("Break")
    assert peer.wait_for(bytes((IAC, 246)))
    assert peer.wait_for(bytes((IAC, 243)))
    assert peer.wait_for(bytes((IAC, 241)))  # keepalive NOP
    assert "sent AYT" in c.texts()
    with pytest.raises(UserError, match="Unknown command"):
        session.special("HUP")


def test_raw_mode_fetches_a_page(session: TelnetSession, http_site: tuple[int, Path],
                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port, _ = http_site
    c = Collector(session)
    log = tmp_path / "logs" / "session.txt"
    typescript = tmp_path / "logs" / "typescript.raw"
    session.connect(TelnetSettings(port=port, mode="raw", log_path=str(log),
                                   typescript_path=str(typescript)))
    c.until(lambda: any(isinstance(e, Connected) for e in c.events))
    assert session.protocol is None and session.local_echo
    session.send_text("GET / HTTP/1.0\r\r")
    c.until(lambda: any(isinstance(e, Closed) for e in c.events))
    received = session.received.data()
    assert received.startswith(b"HTTP/1.0 200")
    assert b"<h1>Hello from the lab</h1>" in received
    c.until(lambda: "Hello from the lab" in session.transcript_text())
    saved = session.received.save(tmp_path / "out" / "page.html")
    assert saved.read_bytes().startswith(b"<html>")  # headers removed for the browser
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    assert open_in_browser(saved)
    assert opened == [saved.resolve().as_uri()]
    session.close()
    assert typescript.read_bytes() == received
    assert "Hello from the lab" in log.read_text()


def test_bad_settings_and_refused_connection(session: TelnetSession) -> None:
    with pytest.raises(UserError, match="Port must be"):
        session.connect(TelnetSettings(port=70000))
    assert not session.running
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    c = Collector(session)
    session.connect(TelnetSettings(port=port))
    c.until(lambda: any(isinstance(e, Closed) for e in c.events))
    (failed,) = [e for e in c.events if isinstance(e, Failed)]
    assert "Connection refused" in failed.message


def test_tls_verifies_by_default(session: TelnetSession,
                                 telnet_lab_tls: TelnetLabServer) -> None:
    c = Collector(session)
    session.connect(TelnetSettings(port=telnet_lab_tls.port, tls=True))
    c.until(lambda: any(isinstance(e, Closed) for e in c.events))
    (failed,) = [e for e in c.events if isinstance(e, Failed)]
    assert "certificate" in failed.message.lower()
    session.close()
    cert, _ = self_signed()
    c2 = Collector(session)
    session.connect(TelnetSettings(port=telnet_lab_tls.port, tls=True, ca_file=str(cert)))
    c2.until(lambda: "login:" in c2.screen())
    assert session.tls_info["version"].startswith("TLS")
    login(c2)


@pytest.mark.parametrize(("binary", "enter", "wire"), [
    (True, "CR", b"ls\r"),  # RFC 856: after WILL BINARY a NUL would be data (^@ in telnetd)
    (False, "CR NUL", b"ls\r\x00"),  # RFC 854: NVT ASCII spells a bare CR as CR NUL
])
def test_enter_in_character_mode_follows_binary(
        session: TelnetSession, scripted_peer: Callable[..., ScriptedPeer], binary: bool,
        enter: str, wire: bytes) -> None:
    offer = bytes((IAC, WILL, ECHO, IAC, WILL, SGA)) + (bytes((IAC, DO, BINARY)) if binary
                                                        else b"")
    peer = scripted_peer(ScriptedPeer.greeter(offer + b"$ "))
    c = Collector(session)
    session.connect(TelnetSettings(port=peer.port, active=False))
    c.until(lambda: session.character_mode and "$" in c.screen())
    if binary:
        assert peer.wait_for(bytes((IAC, WILL, BINARY)))
    assert session.enter_name == enter
    assert any(isinstance(e, InputModeChanged) and e.enter == enter for e in c.pump())
    session.send_text("ls\r")
    assert peer.wait_for(wire)
    assert peer.received.endswith(wire)
