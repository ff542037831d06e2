"""Turn exceptions a user can cause into one clear sentence: the cause and the fix."""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Any


class UserError(Exception):
    """An error caused by user input; ``str()`` is the sentence shown in the tab.

    ``field_name`` names the input field at fault so a tab can highlight it.
    """

    def __init__(self, message: str, field_name: str = "") -> None:
        super().__init__(message)
        self.field_name = field_name


def check_port(value: str | int, field_name: str = "Port", allow_zero: bool = False) -> int:
    """Parse a port number or raise :class:`UserError` naming the field and the range."""
    low = 0 if allow_zero else 1
    try:
        port = int(str(value).strip())
    except ValueError:
        raise UserError(
            f"{field_name} must be a number {low}–65535, got {str(value)!r}.", field_name
        ) from None
    if not low <= port <= 65535:
        raise UserError(f"{field_name} must be {low}–65535, got {port}.", field_name)
    return port


def check_host(value: str, field_name: str = "Host") -> str:
    """A host or address to bind, or :class:`UserError` naming the field and the fix."""
    host = str(value).strip()
    if not host:
        raise UserError(f"{field_name} is empty: use 127.0.0.1 (this machine only) or "
                        "0.0.0.0.", field_name)
    if any(c.isspace() for c in host):
        raise UserError(f"{field_name} must not contain spaces, got {host!r}.", field_name)
    return host


def check_number(value: object, field_name: str, low: float, cast: type = int) -> Any:
    """``cast(value)`` no smaller than ``low``, or :class:`UserError` naming the field."""
    try:
        number = cast(str(value).strip())
    except ValueError:
        raise UserError(f"{field_name} must be a number, got {str(value)!r}.",
                        field_name) from None
    if number < low:
        raise UserError(f"{field_name} must be at least {low:g}, got {number:g}.", field_name)
    return number


def _ssl_reason(exc: BaseException) -> str:
    """OpenSSL's reason, without its own final period (the sentence adds one)."""
    reason = str(getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc)
    return reason.rstrip(". ")


def describe_error(exc: BaseException, target: str = "") -> str:
    """One sentence for a network error, naming the cause and what to try."""
    where = f" {target}" if target else ""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, socket.gaierror):
        return f"Name not found{where}: check the host name spelling or your DNS ({exc.strerror})."
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate rejected{where}: {_ssl_reason(exc)}. "
            "Give a CA file that signs it, or turn off verification for this test."
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed{where}: {_ssl_reason(exc)}. Check that the peer speaks TLS."
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"Timed out{where}: the peer did not answer in time; check host, port, firewall."
    if isinstance(exc, ConnectionRefusedError):
        return (f"Connection refused{where}: nothing listens there. "
                "Start the server or fix the port.")
    if isinstance(exc, ConnectionResetError):
        return f"Connection reset by peer{where}: the other side aborted the connection."
    if isinstance(exc, BrokenPipeError):
        return f"Broken pipe{where}: the peer closed the connection before the data was sent."
    if isinstance(exc, PermissionError) or getattr(exc, "errno", None) == errno.EACCES:
        return (
            f"Permission denied{where}: ports below 1024 need root; choose a port above 1023."
        )
    if isinstance(exc, OSError):
        code = exc.errno
        if code == errno.EADDRINUSE:
            return f"Address in use{where}: another program listens there; pick another port."
        if code == errno.EADDRNOTAVAIL:
            return f"Address not available{where}: this machine has no such local address."
        if code in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return f"Network unreachable{where}: check the address and your routes."
        if code == errno.ENOENT:
            return f"No such file{where}: check the path."
        return f"{exc.strerror or exc}{where}."
    return f"{type(exc).__name__}: {exc}"
