"""The browsing session: every call returns at once, results arrive as events; Stop ends
a login or a listing a hostile server holds, long before the Timeout."""

from __future__ import annotations

import pytest

from core.errors import UserError
from core.events import Closed, Failed, LogLine, StateChanged
from core.ftp.options import FtpOptions
from core.ftp.session import (
    FtpBusy,
    FtpCleartextQuestion,
    FtpListed,
    FtpLoggedIn,
    FtpSession,
    FtpSizeKnown,
    FtpStopped,
    FtpTextViewed,
)
from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER
from core.states import ConnState
from tests.fixtures.ftp_peers import SMALL_LARGE, Script
from tests.fixtures.waiting import EventCollector


@pytest.fixture
def session():
    s = FtpSession()
    yield s
    s.close()


def test_connect_lists_navigates_and_manages(ftp_lab, session):
    c = EventCollector(session.outbox)
    session.connect(FtpOptions("127.0.0.1", ftp_lab.port, user=LAB_USER, password=LAB_PASSWORD))
    info = c.wait(FtpLoggedIn).info
    assert info.mlsd and info.cwd == "/"
    listed = c.wait(FtpListed)
    assert {e.name for e in listed.entries} >= {"docs", "upload", "large.bin"}
    session.change_dir("upload")
    assert c.wait(FtpListed).path == "/upload"
    session.mkd("new folder")
    assert [e.name for e in c.wait(FtpListed).entries] == ["new folder"]
    session.rename("new folder", "renamed")
    assert [e.name for e in c.wait(FtpListed).entries] == ["renamed"]
    session.rmd("renamed")
    assert c.wait(FtpListed).entries == ()
    session.up()
    assert c.wait(FtpListed).path == "/"
    session.size("large.bin")
    assert c.wait(FtpSizeKnown).size == SMALL_LARGE
    session.view("readme.txt")
    viewed = c.wait(FtpTextViewed)
    assert viewed.text.startswith("Welcome") and viewed.path == "/readme.txt"
    (ftp_lab.root / "upload" / "gone.txt").write_text("x")
    session.change_dir("/upload")
    c.wait(FtpListed)
    session.delete("gone.txt")
    c.wait(FtpListed)
    assert not (ftp_lab.root / "upload" / "gone.txt").exists()
    logs = [e.text for e in c.events if isinstance(e, LogLine)]
    assert "> PASS ********" in logs


def test_errors_arrive_as_sentences(ftp_lab, session):
    c = EventCollector(session.outbox)
    session.connect(FtpOptions("127.0.0.1", ftp_lab.port, anonymous=True))
    c.wait(FtpListed)
    session.change_dir("no-such-folder")
    failed = c.wait(Failed)
    assert "refused" in failed.message and "550" in failed.message
    session.refresh()
    c.wait(FtpListed)  # the session is still usable


def test_bad_fields_raise_at_once(session):
    with pytest.raises(UserError) as info:
        session.connect(FtpOptions("", 21, anonymous=True))
    assert info.value.field_name == "Host"
    with pytest.raises(UserError):
        session.delete("a\nb")


def test_refused_connection_reports_and_stays_disconnected(session):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    c = EventCollector(session.outbox)
    session.connect(FtpOptions("127.0.0.1", port, anonymous=True, timeout=3))
    assert "refused" in c.wait(Failed).message.lower()
    assert not session.connected


def test_cleartext_question_when_auth_tls_refused(scripted_ftp, session):
    server = scripted_ftp(Script())
    c = EventCollector(session.outbox)
    session.connect(FtpOptions("127.0.0.1", server.port, user="u", password="pw",
                               tls="explicit"))
    question = c.wait(FtpCleartextQuestion)
    assert "in clear" in question.message
    assert not any(x.startswith("PASS") for x in server.commands)


def test_keepalive_sends_noop_and_server_drop_is_reported(ftp_lab, session):
    c = EventCollector(session.outbox)
    session.connect(FtpOptions("127.0.0.1", ftp_lab.port, anonymous=True, keepalive=0.3))
    c.wait(FtpListed)
    c.wait(LogLine, where=lambda e: e.text == "> NOOP")
    ftp_lab.stop()
    c.wait(Closed, timeout=10)
    assert c.wait(StateChanged, where=lambda e: e.state is ConnState.CLOSED)


#: far beyond how long any test waits: a Stop that merely waited for it would fail
LONG_TIMEOUT = 120.0


def lab_options(ftp_lab) -> FtpOptions:
    return FtpOptions("127.0.0.1", ftp_lab.port, user=LAB_USER, password=LAB_PASSWORD)


def test_stop_ends_a_login_the_server_never_answers(scripted_ftp, ftp_lab, session):
    server = scripted_ftp(Script(mute=True))
    c = EventCollector(session.outbox)
    session.connect(FtpOptions("127.0.0.1", server.port, user="u", password="p",
                               timeout=LONG_TIMEOUT))
    c.wait(LogLine, where=lambda e: "220 scripted" in e.text)  # now waiting on a reply
    assert session.stop()
    assert c.wait(FtpStopped).task == "connecting"  # within 10 s, far inside the Timeout
    assert not c.of(Failed) and not session.connected
    session.connect(lab_options(ftp_lab))
    assert c.wait(FtpLoggedIn).info.cwd == "/"
    c.wait(FtpListed)


@pytest.fixture
def unanswering_port():  # noqa: ANN201
    """A port whose SYNs go unanswered: a listener with a full accept queue (Linux then
    drops new SYNs), so a connect hangs as to a host that never answers."""
    import socket
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    time.sleep(0.2)  # the handshakes that can complete have
    yield port
    for sock in [*fillers, listener]:
        sock.close()


def syn_sent_to(port: int) -> bool:
    """Whether a TCP socket of this machine is in SYN-SENT towards 127.0.0.1:``port``."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return any(row[2] == f"0100007F:{port:04X}" and row[3] == "02" for row in rows)


def test_stop_ends_a_connect_to_a_host_that_never_answers(unanswering_port, ftp_lab,
                                                         session):
    from tests.fixtures.waiting import wait_for

    c = EventCollector(session.outbox)
    session.connect(FtpOptions("127.0.0.1", unanswering_port, user="u", password="p",
                               timeout=LONG_TIMEOUT))
    assert c.wait(FtpBusy).task == "connecting"
    wait_for(lambda: syn_sent_to(unanswering_port))  # the connect() is under way
    assert session.stop()
    assert c.wait(FtpStopped).task == "connecting"  # within 10 s, far inside the Timeout
    assert not c.of(Failed) and not session.connected
    session.connect(lab_options(ftp_lab))
    c.wait(FtpListed)


def test_stop_ends_a_dripping_listing_and_drops_the_queued_jobs(scripted_ftp, ftp_lab,
                                                                 session):
    server = scripted_ftp(Script(drip_listing=True))
    c = EventCollector(session.outbox)
    session.connect(FtpOptions("127.0.0.1", server.port, user="u", password="p",
                               timeout=LONG_TIMEOUT))
    c.wait(LogLine, where=lambda e: "150 opening" in e.text)  # the listing is dripping
    session.refresh()  # queued behind the listing: Stop drops it
    assert session.stop()
    assert c.wait(FtpStopped).task == "connecting"
    closed = c.wait(StateChanged, where=lambda e: e.state is ConnState.CLOSED)
    assert "stopped" in closed.detail
    assert not c.of(Failed) and not c.of(FtpListed) and not session.connected
    assert server.commands.count("LIST") == 1
    session.connect(lab_options(ftp_lab))
    c.wait(FtpListed)


def test_busy_is_announced_and_stop_with_nothing_running_does_nothing(ftp_lab, session):
    c = EventCollector(session.outbox)
    assert not session.stop()
    session.connect(lab_options(ftp_lab))
    assert c.wait(FtpBusy).task == "connecting"
    c.wait(FtpListed)
    c.wait(FtpBusy, where=lambda e: e.task == "")  # the thread has nothing left to do
    assert not session.busy and not session.stop()
    session.refresh()
    assert c.wait(FtpListed).path == "/"
    assert session.connected and not c.of(FtpStopped)


def test_close_does_not_wait_for_a_listing_a_server_holds(scripted_ftp, session):
    import threading

    server = scripted_ftp(Script(drip_listing=True))
    c = EventCollector(session.outbox)
    session.connect(FtpOptions("127.0.0.1", server.port, user="u", password="p",
                               timeout=LONG_TIMEOUT))
    c.wait(LogLine, where=lambda e: "150 opening" in e.text)
    session.close(timeout=10)  # far inside the Timeout
    assert not any(t.name == f"{session.source}:control" for t in threading.enumerate())
