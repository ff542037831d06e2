"""Fuzzed: the telnet protocol parser, client side (core/telnet/protocol.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.telnet.protocol import TelnetConfig, TelnetProtocol
from tests.fuzz.budget import fuzz

IAC, SB, SE = 255, 250, 240
# the pieces a server's stream is made of: data, commands, negotiations, subnegotiations
_PIECE = st.one_of(
    st.binary(max_size=20),
    st.builds(lambda c, o: bytes((IAC, c, o)), st.sampled_from([251, 252, 253, 254]),
              st.integers(0, 255)),
    st.builds(lambda o, body: bytes((IAC, SB, o)) + body + bytes((IAC, SE)),
              st.sampled_from([24, 31, 39, 1, 0, 255]),
              st.one_of(st.sampled_from([b"\x01", b"\x00", b"\x01\x00USER\x03"]),
                        st.binary(max_size=30))),
    st.sampled_from([bytes((IAC,)), bytes((IAC, IAC)), b"\r", b"\r\x00", b"\r\n",
                     bytes((IAC, 241)), bytes((IAC, SB)), bytes((IAC, SB)) + b"x" * 600]))
STREAM = st.lists(_PIECE, max_size=30).map(b"".join)


def protocol(active: bool) -> TelnetProtocol:
    p = TelnetProtocol(TelnetConfig(active=active, environ={"USER": "lab"}))
    p.start()
    p.data_to_send()
    return p


@fuzz(600)
@given(STREAM, st.lists(st.integers(0), max_size=6), st.booleans())
def test_receive_never_raises_is_split_blind_and_bounded(data: bytes, points: list[int],
                                                         active: bool) -> None:
    whole = protocol(active)
    payload, _ = whole.receive(data)
    replies = whole.data_to_send()
    split = protocol(active)
    marks = sorted({p % (len(data) + 1) for p in points})
    pieces = [data[a:b] for a, b in zip([0, *marks], [*marks, len(data)], strict=True)]
    split_payload = b"".join(split.receive(piece)[0] for piece in pieces)
    assert split_payload == payload  # however the network cut the stream
    assert split.data_to_send() == replies
    assert len(payload) <= len(data)
    # every reply answers something that arrived: a few dozen bytes per 3-byte request
    assert len(replies) <= 64 + 30 * len(data)
