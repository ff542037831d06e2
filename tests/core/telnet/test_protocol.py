"""The sans-I/O telnet protocol: IAC at every split point, Q-method, bounded SB."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.telnet.protocol import (
    BINARY,
    DO,
    DONT,
    ECHO,
    IAC,
    MAX_SUBNEGOTIATION,
    NAWS,
    NEW_ENVIRON,
    SB,
    SE,
    SGA,
    TTYPE,
    WILL,
    WONT,
    Negotiation,
    TelnetConfig,
    TelnetProtocol,
    escape_iac,
    negotiation_texts,
)


def binary_protocol() -> TelnetProtocol:
    p = TelnetProtocol(TelnetConfig(active=False))
    p.receive(bytes((IAC, WILL, BINARY)))
    p.data_to_send()
    assert p.binary
    return p


def feed_split(p: TelnetProtocol, wire: bytes, cuts: list[int]) -> tuple[bytes, list]:
    data = bytearray()
    events: list = []
    last = 0
    for cut in sorted(set(cuts)) + [len(wire)]:
        chunk_data, chunk_events = p.receive(wire[last:cut])
        data += chunk_data
        events += chunk_events
        last = cut
    return bytes(data), events


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=64).map(lambda b: b + b"\xff" + b))
def test_iac_round_trip_at_every_split_point(payload: bytes) -> None:
    wire = escape_iac(payload)
    assert wire.count(b"\xff") == 2 * payload.count(b"\xff")
    for cut in range(len(wire) + 1):
        p = binary_protocol()
        data, events = feed_split(p, wire, [cut])
        assert data == payload, f"split at {cut}"
        assert not [e for e in events if isinstance(e, Negotiation)]


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=40), st.lists(st.integers(0, 60), max_size=6))
def test_iac_round_trip_with_commands_mixed_in(payload: bytes, cuts: list[int]) -> None:
    # data, then a DO NAWS, then the data again: the command is found wherever we cut
    wire = escape_iac(payload) + bytes((IAC, DO, NAWS)) + escape_iac(payload)
    p = binary_protocol()
    data, events = feed_split(p, wire, [c for c in cuts if c <= len(wire)])
    assert data == payload + payload
    assert "recv DO NAWS" in negotiation_texts(events)
    assert p.local_enabled(NAWS)


def test_byte_at_a_time_negotiation_names_every_command() -> None:
    p = TelnetProtocol(TelnetConfig(columns=80, rows=24, active=False))
    wire = bytes((IAC, DO, NAWS, IAC, WILL, ECHO, IAC, DO, TTYPE,
                  IAC, SB, TTYPE, 1, IAC, SE)) + b"login: "
    events = []
    data = b""
    for i in range(len(wire)):
        d, e = p.receive(wire[i:i + 1])
        data += d
        events += e
    texts = negotiation_texts(events)
    assert texts == ["recv DO NAWS", "sent WILL NAWS", "sent SB NAWS 80 24",
                     "recv WILL ECHO", "sent DO ECHO", "recv DO TTYPE", "sent WILL TTYPE",
                     "recv SB TTYPE SEND", "sent SB TTYPE IS xterm-256color"]
    assert data == b"login: "
    out = p.data_to_send()
    assert bytes((IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE)) in out
    assert bytes((IAC, SB, TTYPE, 0)) + b"xterm-256color" + bytes((IAC, SE)) in out


def test_naws_values_with_iac_bytes_are_escaped_and_resent_on_resize() -> None:
    p = TelnetProtocol(TelnetConfig(active=False))
    p.receive(bytes((IAC, DO, NAWS)))
    p.data_to_send()
    p.resize(255, 24)
    out = p.data_to_send()
    assert out == bytes((IAC, SB, NAWS, 0, 255, 255, 0, 24, IAC, SE))
    assert negotiation_texts(p.events()) == ["sent SB NAWS 255 24"]


def test_unsupported_options_are_refused() -> None:
    p = TelnetProtocol(TelnetConfig(active=False))
    _, events = p.receive(bytes((IAC, DO, 5, IAC, WILL, 34, IAC, DO, ECHO)))
    assert negotiation_texts(events) == [
        "recv DO STATUS", "sent WONT STATUS", "recv WILL LINEMODE", "sent DONT LINEMODE",
        "recv DO ECHO", "sent WONT ECHO"]
    assert not p.local_enabled(ECHO)


def test_q_method_never_loops_against_an_acknowledging_peer() -> None:
    # two protocol objects back to back; the "server" answers WONT with DONT and DONT
    # with WONT, even when it has nothing to acknowledge
    client = TelnetProtocol(TelnetConfig(active=True))
    client.start()
    rounds = 0
    wire = client.data_to_send()
    while wire and rounds < 50:
        rounds += 1
        reply = bytearray()
        for i in range(0, len(wire) - 2):
            if wire[i] == IAC and wire[i + 1] in (WILL, WONT, DO, DONT):
                cmd, opt = wire[i + 1], wire[i + 2]
                answer = {WILL: DONT, WONT: DONT, DO: WONT, DONT: WONT}[cmd]
                reply += bytes((IAC, answer, opt))
        client.receive(bytes(reply))
        wire = client.data_to_send()
    assert rounds <= 2
    assert not any(client.local_enabled(o) or client.remote_enabled(o)
                   for o in (TTYPE, NAWS, BINARY, SGA))


def test_disable_request_then_enable_is_queued_not_repeated() -> None:
    p = TelnetProtocol(TelnetConfig(active=False))
    p.receive(bytes((IAC, WILL, SGA)))
    p.data_to_send()
    p.request_remote(SGA, False)  # sends DONT, WANTNO
    p.request_remote(SGA, True)  # queued: OPPOSITE
    assert p.data_to_send() == bytes((IAC, DONT, SGA))
    p.receive(bytes((IAC, WONT, SGA)))  # answer to DONT: now ask again
    assert p.data_to_send() == bytes((IAC, DO, SGA))
    p.receive(bytes((IAC, WILL, SGA)))
    assert p.remote_enabled(SGA)
    assert p.data_to_send() == b""


def test_unterminated_subnegotiation_stays_bounded() -> None:
    p = TelnetProtocol(TelnetConfig(active=False))
    p.receive(bytes((IAC, DO, TTYPE)))
    assert p.data_to_send() == bytes((IAC, WILL, TTYPE))
    p.receive(bytes((IAC, SB, TTYPE)))
    junk = b"x" * 65536
    for _ in range(32):  # 2 MiB of subnegotiation, never ended
        data, _ = p.receive(junk)
        assert data == b""
        assert len(p._sb) <= MAX_SUBNEGOTIATION
    data, events = p.receive(bytes((IAC, SE)) + b"after")
    assert data == b"after"
    (event,) = [e for e in events if isinstance(e, Negotiation)]
    assert event.command == "SB" and "truncated" in event.note
    assert p.data_to_send() == b""  # a truncated SB is never answered


def test_cr_nul_is_a_bare_cr_even_when_split() -> None:
    p = TelnetProtocol(TelnetConfig(active=False))
    a, _ = p.receive(b"one\r")
    b, _ = p.receive(b"\x00two\r\n")
    assert a + b == b"one\rtwo\r\n"


def test_a_paired_cr_nul_at_the_end_of_a_read_keeps_the_next_nul() -> None:
    # found by tests/fuzz/test_telnet_protocol.py: after "\r\0" ended a read, the
    # next read's first NUL was dropped as if it finished a CR
    for pieces in ([b"\x00\x00\r\x00", b"\x00\x00"], [b"\r", b"\x00", b"\x00"]):
        p = TelnetProtocol(TelnetConfig(active=False))
        whole = TelnetProtocol(TelnetConfig(active=False)).receive(b"".join(pieces))[0]
        assert b"".join(p.receive(piece)[0] for piece in pieces) == whole
        assert whole == b"".join(pieces).replace(b"\r\x00", b"\r")


def test_new_environ_answers_only_known_variables() -> None:
    p = TelnetProtocol(TelnetConfig(active=False, environ={"LANG": "en_US.UTF-8"}))
    p.receive(bytes((IAC, DO, NEW_ENVIRON)))
    p.data_to_send()
    _, events = p.receive(bytes((IAC, SB, NEW_ENVIRON, 1, 0)) + b"USER" + bytes((0,))
                          + b"LANG" + bytes((IAC, SE)))
    assert negotiation_texts(events)[-1] == "sent SB NEW-ENVIRON IS VAR LANG=en_US.UTF-8"
    assert p.data_to_send() == (bytes((IAC, SB, NEW_ENVIRON, 0, 0)) + b"LANG" + bytes((1,))
                                + b"en_US.UTF-8" + bytes((IAC, SE)))


def test_special_commands_are_named() -> None:
    p = TelnetProtocol()
    for name, code in (("AYT", 246), ("Break", 243), ("IP", 244), ("AO", 245),
                       ("EC", 247), ("EL", 248), ("NOP", 241), ("GA", 249)):
        p.command(name)
        assert p.data_to_send() == bytes((IAC, code))
    assert negotiation_texts(p.events()) == ["sent AYT", "sent BRK", "sent IP", "sent AO",
                                             "sent EC", "sent EL", "sent NOP", "sent GA"]
