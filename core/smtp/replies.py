"""A sans-I/O SMTP reply reader: bytes in, complete (multi-line) replies out.

RFC 5321 section 4.2: a reply is one or more lines ``CODE-text`` ended by ``CODE text``
(or a bare ``CODE``). The reader owns no socket: :meth:`ReplyReader.feed` takes whatever
arrived and returns the replies it completed, keeping the rest for the next call. Lines
and replies are capped, so a hostile server cannot make it buffer without end.

It follows smtplib's reading on purpose (the session used to read through smtplib):
a line whose first three bytes are not digits ends the reply with code -1, and the
text of each line is what follows the fourth byte, stripped of blanks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: bytes of one reply line, CRLF included, above which the server is broken or hostile
#: (RFC 5321 allows 512; smtplib allowed 8192, which real servers stay under)
MAX_LINE = 8192
#: bytes of one whole reply (an EHLO or HELP reply of many lines), same reasoning
MAX_REPLY = 256 * 1024

_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


class ReplyTooLong(ValueError):
    """A reply line or a whole reply went past its byte cap."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One complete reply: ``code`` (-1 when malformed), each line's text, raw lines."""

    code: int
    lines: tuple[str, ...]
    raw: tuple[bytes, ...]  # each line as received, without its line end

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def enhanced(self) -> str:
        """The RFC 3463 enhanced status code (``"2.1.0"``) of the first line, or ""."""
        found = _ENHANCED.match(self.lines[0]) if self.lines else None
        if found is None or str(self.code)[:1] != found.group(1):
            return ""
        return found.group(0)

    def message(self) -> bytes:
        """The reply text as smtplib returns it: the lines' texts joined by LF."""
        return b"\n".join(line[4:].strip(b" \t\r\n") for line in self.raw)


class ReplyReader:
    """Feed bytes as they arrive; collect the replies they complete."""

    def __init__(self, max_line: int = MAX_LINE, max_reply: int = MAX_REPLY) -> None:
        self.max_line = max_line
        self.max_reply = max_reply
        self._buffer = bytearray()
        self._lines: list[bytes] = []  # lines of the reply being read
        self._reply_size = 0

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete reply."""
        return len(self._buffer) + self._reply_size

    def reset(self) -> None:
        """Forget everything buffered: after STARTTLS nothing sent in clear may count."""
        self._buffer.clear()
        self._lines.clear()
        self._reply_size = 0

    def feed(self, data: bytes) -> list[Reply]:
        """The replies ``data`` completes, in order; raises :class:`ReplyTooLong`."""
        self._buffer += data
        replies: list[Reply] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > self.max_line:
                    raise ReplyTooLong(f"a reply line is longer than {self.max_line} bytes")
                return replies
            if end + 1 > self.max_line:
                raise ReplyTooLong(f"a reply line is longer than {self.max_line} bytes")
            line = bytes(self._buffer[:end + 1])
            del self._buffer[:end + 1]
            self._reply_size += len(line)
            if self._reply_size > self.max_reply:
                raise ReplyTooLong(f"a reply is longer than {self.max_reply} bytes")
            self._lines.append(line.rstrip(b"\r\n"))
            code = _code(line)
            if code < 0 or line[3:4] != b"-":
                replies.append(self._complete(code))

    def _complete(self, code: int) -> Reply:
        raw = tuple(self._lines)
        self._lines.clear()
        self._reply_size = 0
        lines = tuple(r[4:].strip(b" \t").decode("utf-8", "replace") for r in raw)
        return Reply(code=code, lines=lines, raw=raw)


def _code(line: bytes) -> int:
    head = line[:3]
    return int(head) if len(head) == 3 and head.isdigit() else -1
