"""Checking host and domain names typed by a user, before any resolver sees them.

Every rule gives one sentence naming the field and the fix. International names are
encoded with IDNA; lengths are checked on the raw text first, because encoding a huge
Unicode string to punycode is quadratic and a pasted megabyte must not stall a worker.
"""

from __future__ import annotations

import ipaddress

import dns.exception
import dns.name

from core.errors import UserError

MAX_NAME = 253
MAX_LABEL = 63


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def is_address(text: str) -> bool:
    """True for an IPv4 or IPv6 literal (with optional %scope on v6)."""
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _encode_label(label: str, field: str) -> str:
    if label.isascii():
        return label
    try:
        return dns.name.from_unicode(label + ".").labels[0].decode("ascii")
    except dns.name.LabelTooLong:
        raise UserError(
            f"{field}: label '{_short(label)}' becomes more than {MAX_LABEL} characters once "
            "encoded (punycode); shorten it.", field) from None
    except (UnicodeError, dns.exception.DNSException) as exc:
        reason = str(exc).rstrip(".") or type(exc).__name__
        raise UserError(
            f"{field}: '{_short(label)}' is not a valid international name ({reason}); "
            "check the spelling or type its xn-- form.", field) from None


def check_name(text: str, field: str = "Name", allow_address: bool = True) -> str:
    """The ASCII (A-label) form of ``text``, or :class:`UserError` saying what is wrong.

    A trailing dot (fully qualified) is kept; IP literals pass through unchanged when
    ``allow_address``.
    """
    name = (text or "").strip()
    if not name:
        raise UserError(f"{field} is empty: type a host name such as example.com.", field)
    if allow_address and is_address(name):
        return name
    if any(ch.isspace() for ch in name):
        raise UserError(f"{field} contains a space: a host name has none.", field)
    body = name[:-1] if name.endswith(".") and name != "." else name
    if name == ".":
        return name
    # refuse on the raw text first: encoding a huge label would be slow for nothing
    if len(body) > MAX_NAME:
        raise UserError(
            f"{field} is {len(body)} characters; a DNS name may have at most {MAX_NAME}.",
            field)
    labels = body.split(".")
    for label in labels:
        if not label:
            raise UserError(
                f"{field} '{_short(name, 40)}' has an empty label (two dots in a row, or a "
                "leading dot): remove the extra dot.", field)
        if len(label) > MAX_LABEL:
            raise UserError(
                f"{field}: label '{_short(label)}' is {len(label)} characters; each part "
                f"between dots may have at most {MAX_LABEL}.", field)
    encoded = [_encode_label(label, field) for label in labels]
    for raw, label in zip(labels, encoded, strict=True):
        if len(label) > MAX_LABEL:
            raise UserError(
                f"{field}: label '{_short(raw)}' becomes {len(label)} characters once "
                f"encoded ({_short(label)}); at most {MAX_LABEL} are allowed.", field)
    ascii_name = ".".join(encoded)
    if len(ascii_name) > MAX_NAME:
        raise UserError(
            f"{field} becomes {len(ascii_name)} characters once encoded; a DNS name may "
            f"have at most {MAX_NAME}.", field)
    return ascii_name + ("." if name.endswith(".") else "")


def to_dns_name(text: str, field: str = "Name") -> dns.name.Name:
    """A checked absolute :class:`dns.name.Name` (never an IP literal)."""
    ascii_name = check_name(text, field, allow_address=False)
    return dns.name.from_text(ascii_name)
