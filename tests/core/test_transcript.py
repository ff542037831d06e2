"""Transcript: timestamped directional records, bounded, exported as text/hexdump/raw."""

from __future__ import annotations

from pathlib import Path

from core.transcript import IN, NOTE, OUT, Transcript, stamp


def sample() -> Transcript:
    t = Transcript()
    t.note("connected to 127.0.0.1:7", peer="127.0.0.1:7")
    t.add(OUT, b"hello\r\n", "127.0.0.1:7", at=1_700_000_000.25)
    t.add(IN, b"hello\r\n", "127.0.0.1:7", at=1_700_000_000.5)
    t.add(IN, bytes(range(20)), "127.0.0.1:7", at=1_700_000_001.0)
    return t


def test_text_export_has_time_direction_peer_and_bytes() -> None:
    text = sample().as_text()
    lines = text.splitlines()
    assert lines[0].endswith("-- 127.0.0.1:7 connected to 127.0.0.1:7")
    assert lines[1] == f"{stamp(1_700_000_000.25)} >> 127.0.0.1:7 (7 bytes)"
    assert lines[2] == "hello\\r\\n"
    assert lines[3] == f"{stamp(1_700_000_000.5)} << 127.0.0.1:7 (7 bytes)"
    assert stamp(1_700_000_000.25).endswith(".250")


def test_hexdump_export_counts_offsets_per_direction() -> None:
    dump = sample().as_hexdump()
    assert "00000000  68 65 6c 6c 6f 0d 0a" in dump  # out, offset 0
    assert "00000007  00 01 02 03" in dump  # second chunk in: after the 7 bytes before it


def test_raw_per_direction(tmp_path: Path) -> None:
    t = sample()
    assert t.raw(OUT) == b"hello\r\n"
    assert t.raw(IN) == b"hello\r\n" + bytes(range(20))
    assert t.raw(IN, peer="other") == b""
    size = t.export("raw-in", tmp_path / "in.bin")
    assert (tmp_path / "in.bin").read_bytes() == t.raw(IN) and size == 27
    t.export("text", tmp_path / "t.txt")
    assert "hello" in (tmp_path / "t.txt").read_text()


def test_bounded_by_records_and_bytes() -> None:
    t = Transcript(max_records=5, max_bytes=1000)
    for i in range(12):
        t.add(IN, bytes([i]) * 10)
    assert len(t) == 5 and t.dropped_records == 7 and t.dropped_bytes == 70
    assert [r.data[0] for r in t] == [7, 8, 9, 10, 11]
    t.add(OUT, b"x" * 995)
    assert t.size <= 1000 and list(t)[-1].direction == OUT
    assert t.as_text().startswith("-- ")  # says what was dropped
    t.clear()
    assert len(t) == 0 and t.size == 0 and t.as_text() == ""


def test_note_direction() -> None:
    t = Transcript()
    t.note("listening")
    assert list(t)[0].direction == NOTE and t.raw(IN) == b""
