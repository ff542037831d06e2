"""The one account and the one certificate authority of every lab peer.

Telnet, FTP and SMTP lab peers all accept the same user and password, so a user learns
one pair, and every tab shows it where it is typed. The TLS lab peers present the same
self-signed certificate (a CA certificate too), so trusting it for a lab connection
means trusting only the lab, and only for that connection: nothing is turned off.
"""

from __future__ import annotations

from pathlib import Path

LAB_USER = "lab"
LAB_PASSWORD = "wirebench"
#: what the tabs print beside their lab buttons and login fields
LAB_LOGIN_HINT = f"lab login: {LAB_USER} / {LAB_PASSWORD}"


def lab_ca_file() -> Path:
    """The PEM file a client trusts to verify any lab peer (made on first use)."""
    from core.tlscerts import self_signed

    return self_signed()[0]
