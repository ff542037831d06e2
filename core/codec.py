"""Payload codec shared by every tab and log: what the user types <-> the bytes on the wire.

* ``parse_payload(text, fmt, line_ending, encoding)``: text with escapes (``\\r \\n \\t
  \\0 \\e \\\\ \\xHH``) or hex (spaces, colons, commas, dashes, ``0x`` prefixes accepted)
  to bytes, plus the chosen line ending.
* ``format_escaped(data, encoding)``: bytes to escaped text, the exact inverse of
  ``parse_escaped`` (property-tested: parse(format(x)) == x).
* ``format_hex(data)`` and ``hexdump(data, offset)`` (offset, 16 bytes hex, ASCII).

Errors are :class:`UserError` sentences naming the field and the fix.
"""

from __future__ import annotations

import re

from core.errors import UserError

LINE_ENDINGS: dict[str, bytes] = {"none": b"", "CR": b"\r", "LF": b"\n", "CRLF": b"\r\n"}
ENCODINGS: tuple[str, ...] = ("utf-8", "latin-1", "ascii", "cp437")

_SIMPLE_ESCAPES: dict[str, bytes] = {
    "r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\", "e": b"\x1b",
}
#: byte -> escape used when formatting (the inverse of the table above)
_FORMAT_ESCAPES: dict[str, str] = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\0": "\\0",
                                   "\\": "\\\\", "\x1b": "\\e"}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_HEX_SEPARATORS = re.compile(r"0[xX]|[\s:,;\-]")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{0,2}|.?)", re.DOTALL)


def check_encoding(encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise UserError(f"Encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}.",
                        "Encoding")
    return encoding


def _encode(text: str, encoding: str, field: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        raise UserError(
            f"{field}: {bad!r} (U+{ord(bad[0]):04X}) cannot be written in {encoding}; "
            "pick utf-8 or type it as \\xHH.", field) from None


def parse_escaped(text: str, encoding: str = "utf-8", field: str = "Payload") -> bytes:
    """Text with backslash escapes to bytes; plain characters are encoded with ``encoding``."""
    check_encoding(encoding)
    out = bytearray()
    pos = 0
    for match in _ESCAPE.finditer(text):
        out += _encode(text[pos:match.start()], encoding, field)
        code = match.group(1)
        if code.startswith("x"):
            if len(code) != 3:
                raise UserError(f"{field}: \\x at position {match.start() + 1} needs two hex "
                                "digits, e.g. \\x0d.", field)
            out.append(int(code[1:], 16))
        elif code in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[code]
        elif code == "":
            raise UserError(f"{field}: a lone backslash ends the text; write \\\\ for a "
                            "backslash.", field)
        else:
            raise UserError(f"{field}: unknown escape \\{code} at position "
                            f"{match.start() + 1}; use \\r \\n \\t \\0 \\e \\\\ or \\xHH.",
                            field)
        pos = match.end()
    out += _encode(text[pos:], encoding, field)
    return bytes(out)


def parse_hex(text: str, field: str = "Payload") -> bytes:
    """Hex digits to bytes; spaces, colons, commas, dashes and ``0x`` prefixes are ignored."""
    digits = _HEX_SEPARATORS.sub("", text)
    for index, char in enumerate(digits):
        if char not in _HEX_DIGITS:
            raise UserError(f"{field}: {char!r} is not a hex digit (byte {index // 2 + 1}); "
                            "use 0-9 and a-f, e.g. 48 65 6c 6c 6f.", field)
    if len(digits) % 2:
        raise UserError(f"{field}: odd number of hex digits ({len(digits)}); each byte "
                        "needs two digits, e.g. 0a not a.", field)
    return bytes.fromhex(digits)


def line_ending_bytes(name: str) -> bytes:
    try:
        return LINE_ENDINGS[name]
    except KeyError:
        raise UserError(f"Line ending must be one of {', '.join(LINE_ENDINGS)}, got "
                        f"{name!r}.", "Line ending") from None


def parse_payload(text: str, fmt: str = "text", line_ending: str = "none",
                  encoding: str = "utf-8", field: str = "Payload") -> bytes:
    """What the user typed, in format ``fmt`` ("text" or "hex").

    Text gets the line ending; hex is exactly the bytes typed (as in Packet Sender): a
    user who types 7 hex bytes means 7 bytes, not 9 with a CR LF added.
    """
    ending = line_ending_bytes(line_ending)  # checked in both formats
    if fmt == "text":
        return parse_escaped(text, encoding, field) + ending
    if fmt == "hex":
        return parse_hex(text, field)
    raise UserError(f"Format must be text or hex, got {fmt!r}.", "Format")


def format_escaped(data: bytes, encoding: str = "utf-8") -> str:
    """Bytes as escaped text: printable characters as themselves, everything else escaped.

    Bytes that do not decode in ``encoding`` become ``\\xHH``, so any bytes round-trip.
    """
    check_encoding(encoding)
    text = data.decode(encoding, errors="surrogateescape")
    if text.isprintable() and "\\" not in text:
        return text  # the common case, in C: a 1 MB line must not cost a second
    escaped = _COMMON_UNPRINTABLE.sub(lambda m: _escape_char(m.group(0), encoding), text)
    if escaped.isprintable():
        return escaped
    return "".join(_escape_char(char, encoding) for char in text)  # rare: e.g. U+200B


#: what most binary data needs escaping for; rarer unprintables go char by char
_COMMON_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\\\\\udc80-\udcff]")


def _escape_char(char: str, encoding: str) -> str:
    if char in _FORMAT_ESCAPES:
        return _FORMAT_ESCAPES[char]
    if "\udc80" <= char <= "\udcff":  # an undecodable byte, smuggled by surrogateescape
        return f"\\x{ord(char) - 0xDC00:02x}"
    if char.isprintable():
        return char
    return "".join(f"\\x{b:02x}" for b in char.encode(encoding))


def display_text(data: bytes, encoding: str = "utf-8") -> str:
    """Bytes for a text view: like :func:`format_escaped`, and each LF (shown as ``\\n``)
    also breaks the line, so line-based protocols read naturally and nothing is hidden."""
    escaped = format_escaped(data, encoding)
    if b"\\" in data:  # an escaped backslash may precede an n: only real \n break lines
        text = _LF_OR_BACKSLASH.sub(lambda m: m.group(1) or "\\n\n", escaped)
    else:
        text = escaped.replace("\\n", "\\n\n")
    return text[:-1] if data.endswith(b"\n") else text


_LF_OR_BACKSLASH = re.compile(r"(\\\\)|\\n")


def format_hex(data: bytes, sep: str = " ") -> str:
    return data.hex(sep) if sep and data else data.hex()


#: byte value -> the character shown in the ASCII column of a hexdump
_ASCII_TABLE = {b: chr(b) if 0x20 <= b < 0x7F else "." for b in range(256)}


def hexdump(data: bytes, offset: int = 0, width: int = 16) -> str:
    """``hexdump -C`` style: offset, ``width`` bytes in hex (split in halves), ASCII."""
    lines = []
    half = width // 2
    hex_width = width * 3 + 1
    for start in range(0, len(data), width):
        row = data[start:start + width]
        left, right = row[:half].hex(" "), row[half:].hex(" ")
        hex_part = f"{left}  {right}" if right else left
        ascii_part = row.decode("latin-1").translate(_ASCII_TABLE)
        lines.append(f"{offset + start:08x}  {hex_part:<{hex_width}} |{ascii_part}|")
    return "\n".join(lines)
