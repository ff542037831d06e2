"""Fuzzed: the SMTP client's reply reader (core/smtp/replies.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.smtp.replies import ReplyReader, ReplyTooLong
from tests.fuzz.budget import fuzz

#: reply-shaped lines (codes, continuation dashes, odd line ends) mixed with junk
_LINE = st.builds(lambda code, sep, text, end: code + sep + text + end,
                  st.sampled_from([b"250", b"220", b"5xx", b"", b"25", b"999", b"354"]),
                  st.sampled_from([b"-", b" ", b"", b"\t"]),
                  st.binary(max_size=40),
                  st.sampled_from([b"\r\n", b"\n", b"\r", b""]))
WIRE = st.one_of(st.binary(max_size=3000),
                 st.lists(_LINE, max_size=40).map(b"".join))


def cuts(data: bytes, points: list[int]) -> list[bytes]:
    marks = sorted({p % (len(data) + 1) for p in points})
    return [data[a:b] for a, b in zip([0, *marks], [*marks, len(data)], strict=True)]


def read_all(reader: ReplyReader, pieces: list[bytes]) -> tuple[list, bool]:
    replies = []
    try:
        for piece in pieces:
            replies += reader.feed(piece)
    except ReplyTooLong:
        return replies, True
    return replies, False


@fuzz(600)
@given(WIRE, st.lists(st.integers(min_value=0), max_size=8),
       st.integers(min_value=16, max_value=300), st.integers(min_value=16, max_value=2000))
def test_reply_reader_is_bounded_and_split_blind(data: bytes, points: list[int],
                                                 max_line: int, max_reply: int) -> None:
    whole, whole_cut = read_all(ReplyReader(max_line, max_reply), [data])
    reader = ReplyReader(max_line, max_reply)
    split, split_cut = read_all(reader, cuts(data, points))
    # the same replies however the bytes were split by the network
    if not whole_cut and not split_cut:
        assert split == whole
        assert reader.pending <= max_line + max_reply
    assert sum(len(line) for reply in whole for line in reply.raw) <= len(data)
    for reply in whole:
        assert reply.code == -1 or 0 <= reply.code <= 999
        assert all(len(line) <= max_line for line in reply.raw)
        assert reply.enhanced == "" or reply.enhanced[0] in "245"
