"""What an SMTP reply code means: the basic code (RFC 5321 4.2) and the enhanced status
code (RFC 3463) as a few words, for the annotated transcript."""

from __future__ import annotations

import re

#: RFC 5321 section 4.2.2/4.2.3, in a user's words
BASIC = {
    211: "system status", 214: "help text", 220: "service ready",
    221: "closing the connection", 235: "authenticated (RFC 4954)",
    250: "done", 251: "user not local, will forward", 252: "cannot verify, will try",
    334: "go on with the authentication (RFC 4954)",
    354: "send the message, end with <CRLF>.<CRLF>",
    421: "service not available, closing (try later)", 432: "password change needed",
    450: "mailbox busy or unavailable (try later)", 451: "local error (try later)",
    452: "out of storage (try later)", 454: "TLS or authentication not available now",
    455: "cannot take these parameters now",
    500: "command not recognised", 501: "bad arguments", 502: "command not implemented",
    503: "bad order of commands", 504: "parameter not implemented",
    530: "authentication required", 534: "mechanism too weak",
    535: "authentication failed", 538: "encryption required for this mechanism",
    550: "mailbox unavailable or refused", 551: "user not local", 552: "storage limit exceeded",
    553: "mailbox name not allowed", 554: "transaction failed", 555: "MAIL/RCPT parameters refused",
}
#: RFC 3463 section 3: the class digit
CLASSES = {"2": "success", "4": "temporary failure", "5": "permanent failure"}
#: RFC 3463 sections 3.1-3.9 (and RFC 4954, 7504 additions): subject.detail
DETAILS = {
    "0.0": "other", "1.0": "other address status", "1.1": "no such mailbox",
    "1.2": "no such system (domain)", "1.3": "bad mailbox address syntax",
    "1.4": "ambiguous address", "1.5": "destination address valid",
    "1.6": "mailbox has moved", "1.7": "bad sender address syntax",
    "1.8": "bad sender system address", "1.10": "recipient address has null MX",
    "2.0": "other mailbox status", "2.1": "mailbox disabled", "2.2": "mailbox full",
    "2.3": "message too long for the mailbox", "2.4": "mailing list expansion problem",
    "3.0": "other mail system status", "3.1": "mail system full",
    "3.2": "system not accepting messages", "3.3": "feature not supported",
    "3.4": "message too big for the system", "3.5": "system wrongly configured",
    "4.0": "other network or routing status", "4.1": "no answer from host",
    "4.2": "bad connection", "4.3": "directory server failure",
    "4.4": "unable to route", "4.5": "mail system congestion", "4.6": "routing loop",
    "4.7": "delivery time expired",
    "5.0": "other protocol status", "5.1": "invalid command", "5.2": "syntax error",
    "5.3": "too many recipients", "5.4": "invalid command arguments",
    "5.5": "wrong protocol version", "5.6": "authentication exchange line too long",
    "6.0": "other media error", "6.1": "media not supported",
    "6.2": "conversion required and prohibited", "6.3": "conversion required, unsupported",
    "6.4": "conversion with loss performed", "6.5": "conversion failed",
    "7.0": "other security status", "7.1": "delivery not authorized",
    "7.2": "mailing list expansion prohibited", "7.3": "security conversion not possible",
    "7.4": "security features not supported", "7.5": "cryptographic failure",
    "7.6": "cryptographic algorithm not supported", "7.7": "message integrity failure",
    "7.8": "authentication credentials invalid", "7.9": "mechanism too weak",
    "7.10": "encryption needed", "7.11": "encryption required for this mechanism",
    "7.12": "a password transition is needed", "7.13": "user account disabled",
    "7.14": "trust relationship required",
}
_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")


def explain(code: int, text: str = "") -> str:
    """``250 2.1.0 Ok`` -> ``250 done; 2.1.0 success: other address status``."""
    parts = []
    basic = BASIC.get(code)
    if basic is None and code // 100 in (2, 3, 4, 5):
        basic = {2: "done", 3: "go on", 4: "temporary failure (try later)",
                 5: "permanent failure"}[code // 100]
    if basic:
        parts.append(f"{code} {basic}")
    match = _ENHANCED.match(text.strip())
    if match:
        klass, subject, detail = match.groups()
        meaning = DETAILS.get(f"{subject}.{detail}") or DETAILS.get(f"{subject}.0", "")
        parts.append(f"{match.group(0)} {CLASSES[klass]}" + (f": {meaning}" if meaning
                                                               else ""))
    return "; ".join(parts)
