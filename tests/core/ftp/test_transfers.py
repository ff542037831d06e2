"""The transfer queue on its own connection: progress, cancel/resume, folders, overwrite."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from core.events import Event
from core.ftp.options import FtpOptions
from core.ftp.transfers import (
    CANCELLED,
    DONE,
    FAILED,
    OVERWRITE,
    RUNNING,
    SKIP,
    SKIPPED,
    WAITING,
    OverwriteQuestion,
    TransferQueue,
    TransferUpdated,
    part_path,
)
from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER
from core.worker import drain
from tests.fixtures.ftp_peers import SMALL_LARGE, Script
from tests.fixtures.waiting import wait_for


def make_queue(port: int, user: bool = False) -> TransferQueue:
    if user:
        options = FtpOptions("127.0.0.1", port, user=LAB_USER, password=LAB_PASSWORD, timeout=5)
    else:
        options = FtpOptions("127.0.0.1", port, anonymous=True, timeout=5)
    return TransferQueue(options)


def wait_state(q: TransferQueue, item_id: int, states: tuple[str, ...], events: list[Event],
               timeout: float = 20) -> None:
    """Until the item reaches one of ``states``; its events so far go into ``events``."""
    def reached() -> bool:
        events.extend(drain(q.outbox))
        return q.items[item_id].state in states

    wait_for(reached, timeout, f"item {item_id} stuck in {q.items[item_id]}")
    events.extend(drain(q.outbox))


def wait_idle(q: TransferQueue, timeout: float = 20) -> None:
    wait_for(q.idle, timeout, f"the queue never went idle: {q.snapshot()}")


def cancel_after(q: TransferQueue, item_id: int, done: int, timeout: float = 20) -> None:
    """Cancel the item once ``done`` bytes moved (or it already finished)."""
    item = q.items[item_id]
    wait_for(lambda: q.items[item_id].done >= done
             or q.items[item_id].state not in ("queued", RUNNING), timeout,
             f"item stalled: {item}", interval=0.002)
    q.cancel(item_id)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_writes_part_then_renames_and_reports_progress(ftp_lab, tmp_path):
    q = make_queue(ftp_lab.port)
    events: list[Event] = []
    try:
        item_id = q.add_download("/large.bin", tmp_path)
        wait_state(q, item_id, (DONE, FAILED), events)
        item = q.items[item_id]
        assert item.state == DONE, item.error
        assert digest(tmp_path / "large.bin") == digest(ftp_lab.root / "large.bin")
        assert not part_path(tmp_path / "large.bin").exists()
        updates = [e.item for e in events if isinstance(e, TransferUpdated)]
        assert updates[-1].done == SMALL_LARGE
        assert all(u.done <= SMALL_LARGE for u in updates)
    finally:
        q.close()


def test_upload_checksum_and_browsing_connection_is_separate(ftp_lab, tmp_path):
    src = tmp_path / "up.bin"
    src.write_bytes(bytes(range(256)) * 5000)
    q = make_queue(ftp_lab.port, user=True)
    events: list[Event] = []
    try:
        item_id = q.add_upload(src, "/upload")
        wait_state(q, item_id, (DONE, FAILED), events)
        assert q.items[item_id].state == DONE, q.items[item_id].error
        assert digest(ftp_lab.root / "upload" / "up.bin") == digest(src)
    finally:
        q.close()


def test_upload_as_listed_queues_without_touching_the_disk(ftp_lab, tmp_path):
    """The local pane passes what it listed; a file gone since then fails in the queue
    with a sentence, not on the caller's (the Tk) thread."""
    q = make_queue(ftp_lab.port, user=True)
    events: list[Event] = []
    try:
        item_id = q.add_upload(tmp_path / "gone.bin", "/upload", folder=False, size=5)
        assert q.items[item_id].size == 5
        wait_state(q, item_id, (DONE, FAILED), events)
        item = q.items[item_id]
        assert item.state == FAILED and "gone.bin" in item.error, item
    finally:
        q.close()


def test_cancel_keeps_the_part_and_resume_finishes_an_identical_file(ftp_lab, tmp_path):
    big = ftp_lab.root / "big.bin"
    big.write_bytes(bytes(range(256)) * (40 * 4096))  # 40 MiB: long enough to cancel
    q = make_queue(ftp_lab.port)
    events: list[Event] = []
    try:
        item_id = q.add_download("/big.bin", tmp_path)
        cancel_after(q, item_id, 1_000_000)
        wait_state(q, item_id, (CANCELLED, DONE), events)
        item = q.items[item_id]
        if item.state == CANCELLED:  # on a fast machine the file may finish first
            part = part_path(tmp_path / "big.bin")
            assert part.exists() and 0 < part.stat().st_size < big.stat().st_size
            assert item.resumable
            q.resume(item_id)
            wait_state(q, item_id, (DONE, FAILED), events)
            commands = [e.text for e in events
                        if getattr(e, "text", "").startswith("[transfer] > REST")]
            assert commands, "resume must use REST"
        assert q.items[item_id].state == DONE, q.items[item_id].error
        assert digest(tmp_path / "big.bin") == digest(big)
    finally:
        q.close()


def test_recursive_download_and_upload_of_folders(ftp_lab, tmp_path):
    q = make_queue(ftp_lab.port, user=True)
    events: list[Event] = []
    try:
        item_id = q.add_download("/docs", tmp_path, folder=True)
        wait_state(q, item_id, (DONE, FAILED), events)
        wait_idle(q)
        assert (tmp_path / "docs" / "notes" / "todo.txt").read_bytes() == \
            (ftp_lab.root / "docs" / "notes" / "todo.txt").read_bytes()
        assert (tmp_path / "docs" / "rfc959-summary.txt").exists()
        up_id = q.add_upload(tmp_path / "docs", "/upload")
        wait_state(q, up_id, (DONE, FAILED), events)
        wait_idle(q)
        assert (ftp_lab.root / "upload" / "docs" / "notes" / "todo.txt").exists()
        assert all(i.state == DONE for i in q.snapshot()), q.snapshot()
    finally:
        q.close()


def test_existing_target_asks_then_obeys(ftp_lab, tmp_path):
    (tmp_path / "readme.txt").write_text("mine")
    q = make_queue(ftp_lab.port)
    events: list[Event] = []
    try:
        item_id = q.add_download("/readme.txt", tmp_path)
        wait_state(q, item_id, (WAITING,), events)
        assert any(isinstance(e, OverwriteQuestion) and e.existing_size == 4 for e in events)
        q.answer(item_id, SKIP)
        assert q.items[item_id].state == SKIPPED
        assert (tmp_path / "readme.txt").read_text() == "mine"
        again = q.add_download("/readme.txt", tmp_path)
        wait_state(q, again, (WAITING,), events)
        q.answer(again, OVERWRITE)
        wait_state(q, again, (DONE, FAILED), events)
        assert (tmp_path / "readme.txt").read_bytes() == (ftp_lab.root / "readme.txt").read_bytes()
    finally:
        q.close()


def test_hostile_listing_names_never_write_outside(scripted_ftp, tmp_path):
    listing = ["-rw-r--r-- 1 u g 3 Jan 01 2020 ../escape.txt",
               "-rw-r--r-- 1 u g 3 Jan 01 2020 /etc/evil.txt",
               "-rw-r--r-- 1 u g 3 Jan 01 2020 ..",
               "-rw-r--r-- 1 u g 3 Jan 01 2020 ok.txt"]
    files = {f"/pub/{n}": b"abc" for n in ("../escape.txt", "/etc/evil.txt", "ok.txt")}
    files["/pub//etc/evil.txt"] = b"abc"
    server = scripted_ftp(Script(listing=listing, files=files))
    target = tmp_path / "inside"
    target.mkdir()
    q = make_queue(server.port)
    events: list[Event] = []
    try:
        item_id = q.add_download("/pub", target, folder=True)
        wait_state(q, item_id, (DONE, FAILED), events)
        wait_idle(q)
        written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                         if p.is_file())
        assert all(w.startswith("inside/pub/") for w in written), written
        assert "inside/pub/ok.txt" in written
    finally:
        q.close()


def test_dropped_data_connection_fails_resumably_then_resumes(scripted_ftp, tmp_path):
    body = bytes(range(256)) * 1000
    server = scripted_ftp(Script(files={"/f.bin": body}, drop_after=100_000))
    q = make_queue(server.port)
    events: list[Event] = []
    try:
        item_id = q.add_download("/f.bin", tmp_path)
        wait_state(q, item_id, (DONE, FAILED), events)
        item = q.items[item_id]
        assert item.state == FAILED and item.resumable and "resume" in item.error.lower()
        assert part_path(tmp_path / "f.bin").stat().st_size == 100_000
        q.resume(item_id)
        wait_state(q, item_id, (DONE, FAILED), events)
        assert q.items[item_id].state == DONE, q.items[item_id].error
        assert (tmp_path / "f.bin").read_bytes() == body
    finally:
        q.close()


def test_progress_events_are_throttled(ftp_lab, tmp_path):
    q = make_queue(ftp_lab.port)
    events: list[Event] = []
    try:
        started = time.monotonic()
        item_id = q.add_download("/large.bin", tmp_path)
        wait_state(q, item_id, (DONE, FAILED), events)
        elapsed = time.monotonic() - started
        running = [e for e in events if isinstance(e, TransferUpdated)
                   and e.item.state == RUNNING]
        # at most 10 per second plus the first and state changes
        assert len(running) <= 10 * elapsed + 3
    finally:
        q.close()


def test_cancelled_upload_resumes_to_an_identical_remote_file(ftp_lab, tmp_path):
    src = tmp_path / "big-up.bin"
    src.write_bytes(bytes(range(256)) * (40 * 4096))
    q = make_queue(ftp_lab.port, user=True)
    events: list[Event] = []
    try:
        item_id = q.add_upload(src, "/upload")
        cancel_after(q, item_id, 1_000_000)
        wait_state(q, item_id, (CANCELLED, DONE), events)
        if q.items[item_id].state == CANCELLED:
            remote = ftp_lab.root / "upload" / "big-up.bin"
            assert remote.stat().st_size < src.stat().st_size
            q.resume(item_id)
            wait_state(q, item_id, (DONE, FAILED), events)
            sent = [e.text for e in events if getattr(e, "text", "").startswith(
                ("[transfer] > REST", "[transfer] > APPE"))]
            assert sent, "an upload resumes with REST+STOR or APPE"
        assert q.items[item_id].state == DONE, q.items[item_id].error
        assert digest(ftp_lab.root / "upload" / "big-up.bin") == digest(src)
    finally:
        q.close()
