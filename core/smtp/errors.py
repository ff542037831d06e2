"""Every smtplib exception as one clear sentence: what the server said and what to do.

The origin document lists SMTPException, SMTPServerDisconnected, SMTPResponseException,
SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError, SMTPConnectionError
(``SMTPConnectError`` in the real module) and SMTPHeloError; SMTPAuthenticationError and
SMTPNotSupportedError are the modern additions. The most specific class is matched
first (they inherit from each other).
"""

from __future__ import annotations

import smtplib

from core.errors import describe_error


class StoppedByUser(Exception):
    """The user pressed Stop while a command or the DATA transfer was running."""


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(value.split())  # multi-line replies read as one sentence


def reply_text(code: int, message: bytes | str) -> str:
    """``550 5.1.1 No such user`` from smtplib's (code, message) pair."""
    return f"{code} {_text(message)}".strip()


def describe_refused(refused: dict[str, tuple[int, bytes | str]]) -> str:
    """One line per refused recipient with the server's reason."""
    return "\n".join(f"  {rcpt}: {reply_text(code, msg)}"
                     for rcpt, (code, msg) in refused.items())


def describe_smtp_error(exc: BaseException, target: str = "") -> str:
    """A sentence for any error of an SMTP session (network errors included)."""
    where = f" {target}" if target else ""
    if isinstance(exc, StoppedByUser):
        return f"Stopped as you asked ({exc}); the message is kept, send it again when ready."
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        count = len(exc.recipients)
        return (f"The server refused {'the recipient' if count == 1 else f'all {count} recipients'}"
                f"; nothing was sent. Check the addresses:\n{describe_refused(exc.recipients)}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (f"The server refused the sender {exc.sender}: "
                f"{reply_text(exc.smtp_code, exc.smtp_error)}. Use a From address this "
                "server accepts (often it must match the login).")
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (f"Login refused{where}: {reply_text(exc.smtp_code, exc.smtp_error)}. "
                "Check the user name and password, or pick another AUTH mechanism.")
    if isinstance(exc, smtplib.SMTPDataError):
        return (f"The server rejected the message after DATA: "
                f"{reply_text(exc.smtp_code, exc.smtp_error)}. Its content, size or "
                "headers were refused; the draft is kept.")
    if isinstance(exc, smtplib.SMTPConnectError):
        return (f"The server refused the connection{where}: "
                f"{reply_text(exc.smtp_code, exc.smtp_error)}. Try later or another server.")
    if isinstance(exc, smtplib.SMTPHeloError):
        return (f"The server refused our greeting (EHLO and HELO){where}: "
                f"{reply_text(exc.smtp_code, exc.smtp_error)}. Is this an SMTP server?")
    if isinstance(exc, smtplib.SMTPResponseException):
        return (f"The server answered with an error{where}: "
                f"{reply_text(exc.smtp_code, exc.smtp_error)}.")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        detail = _text(str(exc)) or "connection closed"
        return (f"The server closed the connection{where} ({detail}). Connect again; "
                "if it keeps happening check the port and security mode (465 needs TLS).")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return (f"The server does not support that command{where}: {_text(str(exc))}. "
                "Choose another option or security mode.")
    if isinstance(exc, smtplib.SMTPException):
        return f"SMTP error{where}: {_text(str(exc))}."
    return describe_error(exc, target)
