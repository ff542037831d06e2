"""Byte order conversions, shown as bytes (origin document 2.7.3)."""

from __future__ import annotations

import socket
import sys

import pytest

from core.errors import UserError
from core.lookup import byteorder


def test_htons_swaps_on_little_endian_and_not_on_big() -> None:
    conv = byteorder.htons(0x1234)
    assert conv.result == socket.htons(0x1234)
    assert conv.network_bytes == "12 34"
    if sys.byteorder == "little":
        assert conv.result == 0x3412
        assert conv.host_bytes == "34 12"
    else:
        assert conv.result == 0x1234
        assert conv.host_bytes == "12 34"


def test_long_conversions_round_trip() -> None:
    value = 0x0A0B0C0D
    there = byteorder.htonl(value)
    assert there.network_bytes == "0a 0b 0c 0d"
    back = byteorder.ntohl(there.result)
    assert back.result == value
    assert byteorder.ntohs(byteorder.htons(8080).result).result == 8080
    assert byteorder.htons("0x1F90").value == 8080
    assert byteorder.htonl("0b1").result == socket.htonl(1)
    assert "htons(80)" in byteorder.htons(80).summary()


def test_endianness_text_matches_host() -> None:
    assert sys.byteorder.split("-")[0] in byteorder.host_endianness()


@pytest.mark.parametrize(("fn", "value", "needle"), [
    (byteorder.htons, "65536", "0–65535"),
    (byteorder.htons, "-1", "0–65535"),
    (byteorder.htonl, str(1 << 32), "0–4294967295"),
    (byteorder.htons, "", "empty"),
    (byteorder.htons, "12ab", "must be a number"),
])
def test_range_and_syntax_errors(fn, value, needle) -> None:
    with pytest.raises(UserError, match=needle):
        fn(value)


def test_inet_aton_ntoa() -> None:
    packed = byteorder.inet_aton("192.0.2.1")
    assert packed.packed_hex == "c0 00 02 01"
    assert byteorder.inet_ntoa("c0:00:02:01").text == "192.0.2.1"
    assert byteorder.inet_aton("127.1").text == "127.0.0.1"  # the C call's short form
    with pytest.raises(UserError, match="not an IPv4"):
        byteorder.inet_aton("300.1.1.1")
    with pytest.raises(UserError, match="exactly 4"):
        byteorder.inet_ntoa("c0 00 02")
    with pytest.raises(UserError, match="hex bytes"):
        byteorder.inet_ntoa("zz")


def test_inet_pton_ntop_v4_v6() -> None:
    v6 = byteorder.inet_pton("IPv6", "2001:db8::1")
    assert v6.length == 16 and v6.packed_hex.startswith("20 01 0d b8")
    assert byteorder.inet_ntop("IPv6", v6.packed_hex).text == "2001:db8::1"
    assert byteorder.inet_pton("IPv4", "10.1.2.3").packed_hex == "0a 01 02 03"
    assert byteorder.inet_ntop("IPv4", "0a010203").text == "10.1.2.3"
    with pytest.raises(UserError, match="not an IPv6"):
        byteorder.inet_pton("IPv6", "2001:::1")
    with pytest.raises(UserError, match="16 bytes"):
        byteorder.inet_ntop("IPv6", "00 01")
    with pytest.raises(UserError, match="IPv4 or IPv6"):
        byteorder.inet_pton("IPX", "1")
