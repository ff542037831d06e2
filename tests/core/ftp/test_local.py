"""The local pane's disk work: real folders, off the caller's thread, errors as sentences."""

from __future__ import annotations

import os
import queue
import threading

import pytest

from core.errors import UserError
from core.events import Failed
from core.ftp import local
from core.ftp.local import LocalFolder, LocalListed, check_name, scan
from tests.fixtures.disk_audit import disk_calls


@pytest.fixture
def folder(tmp_path):
    box: queue.SimpleQueue = queue.SimpleQueue()
    f = LocalFolder(box, tmp_path)
    yield f
    f.close()


def names(event: LocalListed) -> list[str]:
    return sorted(e.name for e in event.entries)


def test_lists_creates_renames_and_deletes_in_order(folder, tmp_path, collect_events):
    (tmp_path / "a.txt").write_bytes(b"12345")
    (tmp_path / "tree" / "inner").mkdir(parents=True)
    (tmp_path / "tree" / "inner" / "x.bin").write_bytes(b"x" * 10)
    events = collect_events(folder.outbox)
    folder.refresh()
    listed = events.wait(LocalListed)
    assert listed.path == tmp_path and names(listed) == ["a.txt", "tree"]
    by_name = {e.name: e for e in listed.entries}
    assert by_name["a.txt"].size == 5 and not by_name["a.txt"].is_dir
    assert by_name["tree"].is_dir and by_name["tree"].size is None
    assert by_name["a.txt"].modified == pytest.approx(os.stat(tmp_path / "a.txt").st_mtime)

    # asked back to back: they run in the order asked
    folder.mkdir("new")
    folder.rename("a.txt", "b.txt")
    folder.delete(["tree"])
    assert names(events.wait(LocalListed)) == ["a.txt", "new", "tree"]
    assert names(events.wait(LocalListed)) == ["b.txt", "new", "tree"]
    assert names(events.wait(LocalListed)) == ["b.txt", "new"]
    assert not (tmp_path / "tree").exists() and (tmp_path / "b.txt").read_bytes() == b"12345"
    assert not events.of(Failed)


def test_navigation_relative_absolute_up_and_fallback(folder, tmp_path, collect_events):
    (tmp_path / "sub").mkdir()
    events = collect_events(folder.outbox)
    folder.change_dir("sub")
    assert events.wait(LocalListed).path == tmp_path / "sub"
    assert folder.path == tmp_path / "sub"
    folder.up()
    assert events.wait(LocalListed).path == tmp_path
    folder.change_dir(tmp_path / "gone", fallback=tmp_path / "sub")
    assert events.wait(LocalListed).path == tmp_path / "sub"
    assert not events.of(Failed)


def test_errors_are_sentences_naming_the_item(folder, tmp_path, collect_events):
    (tmp_path / "taken").mkdir()
    (tmp_path / "file.txt").write_text("keep me")
    events = collect_events(folder.outbox)
    folder.mkdir("taken")
    assert events.wait(Failed).message == "Cannot create taken: File exists."
    folder.rename("taken", "file.txt")  # never over an existing item
    assert events.wait(Failed).message == (
        "Cannot rename taken: file.txt already exists; choose another name.")
    assert (tmp_path / "file.txt").read_text() == "keep me"
    folder.delete(["ghost"])
    assert events.wait(Failed).message == "Cannot delete ghost: No such file or directory."
    folder.change_dir("nowhere")
    assert events.wait(Failed).message == (
        f"Local folder {tmp_path / 'nowhere'} does not exist: type an existing folder.")
    folder.change_dir(tmp_path / "file.txt")
    assert "does not exist" in events.wait(Failed).message
    assert folder.path == tmp_path  # a failed move leaves the pane where it was


@pytest.mark.parametrize("bad", ["", "a/b", ".", "..", "x\0y"])
def test_bad_names_are_refused_before_any_disk_work(folder, bad):
    with pytest.raises(UserError, match="single name"):
        folder.mkdir(bad)
    with pytest.raises(UserError, match="New name"):
        folder.rename("a", bad)
    assert check_name("  ok name ") == "ok name"


def test_a_large_folder_is_listed_off_the_callers_thread(folder, tmp_path, monkeypatch,
                                                         collect_events):
    big = tmp_path / "big"
    big.mkdir()
    for i in range(3000):
        (big / f"f{i:05}").touch()
    monkeypatch.setattr(local, "MAX_ENTRIES", 1000)
    events = collect_events(folder.outbox)
    with disk_calls() as calls:
        folder.change_dir(big)
        listed = events.wait(LocalListed, timeout=30)
        folder.mkdir("made")
        folder.delete(["made"])
        events.wait(LocalListed)
        events.wait(LocalListed)
    assert listed.total == 3000 and len(listed.entries) == 1000 and listed.truncated
    me = threading.current_thread().name
    assert {call for call, _ in calls} >= {"os.scandir", "os.mkdir", "shutil.rmtree"}
    assert all(thread != me for _, thread in calls), calls
    assert scan(big, limit=10)[1] == 3000


def test_close_drops_queued_work_and_the_worker_ends(tmp_path, wait_until):
    box: queue.SimpleQueue = queue.SimpleQueue()
    f = LocalFolder(box, tmp_path)
    f.refresh()
    wait_until(lambda: not f.busy())  # idle: the thread is gone
    f.close()
    f.mkdir("late")
    assert not f.busy() and not (tmp_path / "late").exists()


def test_unreadable_folder_is_a_sentence(folder, tmp_path, collect_events):
    if os.geteuid() == 0:
        # root reads every folder; a vanished one is the same error path
        target = tmp_path / "vanishes"
        target.mkdir()
        folder.change_dir(target)
        events = collect_events(folder.outbox)
        events.wait(LocalListed)
        target.rmdir()
        folder.refresh()
        assert events.wait(Failed).message == (
            f"Cannot list {target}: No such file or directory.")
        return
    locked = tmp_path / "locked"
    locked.mkdir(mode=0)
    events = collect_events(folder.outbox)
    try:
        folder.change_dir(locked)
        assert events.wait(Failed).message == f"Cannot list {locked}: Permission denied."
    finally:
        locked.chmod(0o700)


