"""Host and network byte order (the origin document's section 2.7.3), made visible.

"In fact there is a simple byte-swap": each conversion here returns the value and the
bytes as they sit in memory in host order and on the wire in network (big-endian) order,
so a user on a little-endian machine sees the swap and one on a big-endian sees none.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass

from core.errors import UserError

HOST_ORDER = sys.byteorder  # "little" or "big"


def host_endianness() -> str:
    return ("little-endian (least significant byte first, e.g. x86, ARM)"
            if HOST_ORDER == "little" else
            "big-endian (same as network order: conversions change nothing)")


def parse_int(text: str | int, bits: int, field: str = "Value") -> int:
    """An integer typed as decimal, 0x hex, 0o octal or 0b binary, range-checked."""
    if isinstance(text, int):
        value = text
    else:
        raw = (text or "").strip().replace("_", "")
        if not raw:
            raise UserError(f"{field} is empty: type a number such as 80 or 0x1F90.", field)
        try:
            value = int(raw, 0)
        except ValueError:
            raise UserError(f"{field} must be a number (decimal, 0x…, 0o…, 0b…), "
                            f"got {raw[:32]!r}.", field) from None
    top = (1 << bits) - 1
    if not 0 <= value <= top:
        raise UserError(f"{field} must be 0–{top} for a {bits}-bit "
                        f"{'short' if bits == 16 else 'long'}, got {value}.", field)
    return value


def _hex(data: bytes) -> str:
    return " ".join(f"{b:02x}" for b in data)


@dataclass(frozen=True, slots=True)
class Conversion:
    function: str
    value: int
    result: int
    width: int  # bytes
    host_bytes: str  # how ``value`` sits in this machine's memory
    network_bytes: str  # how ``value`` goes on the wire (big-endian)
    result_host_bytes: str

    def summary(self) -> str:
        return (f"{self.function}({self.value}) = {self.result} (0x{self.result:0{self.width*2}x})"
                f"; {self.value} in host order: {self.host_bytes}; in network order: "
                f"{self.network_bytes}")


def _convert(name: str, fn, text: str | int, bits: int) -> Conversion:
    value = parse_int(text, bits)
    result = fn(value)
    width = bits // 8
    return Conversion(
        function=name, value=value, result=result, width=width,
        host_bytes=_hex(value.to_bytes(width, HOST_ORDER)),
        network_bytes=_hex(value.to_bytes(width, "big")),
        result_host_bytes=_hex(result.to_bytes(width, HOST_ORDER)))


def htons(value: str | int) -> Conversion:
    return _convert("htons", socket.htons, value, 16)


def ntohs(value: str | int) -> Conversion:
    return _convert("ntohs", socket.ntohs, value, 16)


def htonl(value: str | int) -> Conversion:
    return _convert("htonl", socket.htonl, value, 32)


def ntohl(value: str | int) -> Conversion:
    return _convert("ntohl", socket.ntohl, value, 32)


CONVERSIONS = {"htons": htons, "ntohs": ntohs, "htonl": htonl, "ntohl": ntohl}


@dataclass(frozen=True, slots=True)
class PackedAddress:
    text: str
    family: str
    packed_hex: str
    length: int


def inet_aton(text: str) -> PackedAddress:
    """IPv4 dotted text to 4 packed bytes (accepts the old short forms, like the C call)."""
    raw = (text or "").strip()
    if not raw:
        raise UserError("Address is empty: type an IPv4 address such as 192.0.2.1.", "Address")
    try:
        packed = socket.inet_aton(raw)
    except OSError:
        raise UserError(f"{raw[:45]!r} is not an IPv4 address (four numbers 0–255 "
                        "separated by dots).", "Address") from None
    return PackedAddress(socket.inet_ntoa(packed), "IPv4", _hex(packed), 4)


def parse_packed(text: str, field: str = "Bytes") -> bytes:
    """Hex bytes typed as ``c0 00 02 01``, ``c0:00:02:01`` or ``c0000201``."""
    raw = (text or "").strip().lower().replace("0x", "")
    for sep in (" ", ":", "-", ","):
        raw = raw.replace(sep, "")
    if not raw:
        raise UserError(f"{field} is empty: type hex bytes such as c0 00 02 01.", field)
    try:
        return bytes.fromhex(raw)
    except ValueError:
        raise UserError(f"{field} must be hex bytes such as c0 00 02 01.", field) from None


def inet_ntoa(packed_text: str) -> PackedAddress:
    packed = parse_packed(packed_text)
    if len(packed) != 4:
        raise UserError(f"inet_ntoa needs exactly 4 bytes, got {len(packed)}.", "Bytes")
    return PackedAddress(socket.inet_ntoa(packed), "IPv4", _hex(packed), 4)


def _family(name: str) -> int:
    fam = {"IPv4": socket.AF_INET, "IPv6": socket.AF_INET6}.get(name)
    if fam is None:
        raise UserError(f"Family must be IPv4 or IPv6, got {name!r}.", "Family")
    return fam


def inet_pton(family: str, text: str) -> PackedAddress:
    fam = _family(family)
    raw = (text or "").strip()
    if not raw:
        raise UserError("Address is empty.", "Address")
    try:
        packed = socket.inet_pton(fam, raw)
    except OSError:
        example = "192.0.2.1" if fam == socket.AF_INET else "2001:db8::1"
        raise UserError(f"{raw[:45]!r} is not an {family} address (e.g. {example}).",
                        "Address") from None
    return PackedAddress(socket.inet_ntop(fam, packed), family, _hex(packed), len(packed))


def inet_ntop(family: str, packed_text: str) -> PackedAddress:
    fam = _family(family)
    packed = parse_packed(packed_text)
    need = 4 if fam == socket.AF_INET else 16
    if len(packed) != need:
        raise UserError(f"An {family} address is {need} bytes, got {len(packed)}.", "Bytes")
    return PackedAddress(socket.inet_ntop(fam, packed), family, _hex(packed), need)
