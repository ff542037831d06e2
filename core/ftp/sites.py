"""Saved FTP sites: connection fields in a JSON file, passwords only in the OS keyring.

Where no keyring backend exists (a bare container, a headless server) the password is
simply not saved — never written to the JSON in its place — and :func:`keyring_status`
says so, so the tab can tell the user.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from core.errors import UserError
from core.paths import config_dir

KEYRING_SERVICE = "wirebench-ftp"


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    host: str
    port: int = 21
    user: str = ""
    anonymous: bool = False
    tls: str = "none"
    passive: bool = True
    verify: bool = True

    @property
    def key(self) -> str:
        """The keyring user name: one secret per user@host:port."""
        return f"{self.user}@{self.host}:{self.port}"


def _keyring():  # -> module | None
    try:
        import keyring
        from keyring.backends import fail
    except Exception:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        return None
    return keyring


def keyring_status() -> str:
    """"" when passwords can be saved, else a sentence for the UI."""
    if _keyring() is None:
        return ("No system keyring is available here, so passwords are not saved; "
                "you will type them each time.")
    return ""


class SiteStore:
    """The saved sites, in ``config_dir()/ftp_sites.json``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (config_dir() / "ftp_sites.json")

    def load(self) -> list[Site]:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise UserError(f"Saved sites in {self.path} could not be read ({exc}): "
                            "fix or delete the file.", "Site") from exc
        known = {f.name for f in fields(Site)}
        sites = []
        for entry in raw if isinstance(raw, list) else []:
            if isinstance(entry, dict) and entry.get("name") and entry.get("host"):
                sites.append(Site(**{k: v for k, v in entry.items() if k in known}))
        return sites

    def _write(self, sites: list[Site]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(s) for s in sites], indent=2), "utf-8")
        os.replace(tmp, self.path)

    def save(self, site: Site, password: str = "") -> bool:
        """Add or replace ``site``; returns True when the password went to the keyring."""
        if not site.name.strip():
            raise UserError("Site name is empty: type a name to save the site under.", "Site")
        sites = [s for s in self.load() if s.name != site.name]
        sites.append(site)
        sites.sort(key=lambda s: s.name.lower())
        self._write(sites)
        if not password or site.anonymous:
            return False
        kr = _keyring()
        if kr is None:
            return False
        try:
            kr.set_password(KEYRING_SERVICE, site.key, password)
        except Exception:
            return False
        return True

    def password(self, site: Site) -> str:
        kr = _keyring()
        if kr is None or site.anonymous:
            return ""
        try:
            return kr.get_password(KEYRING_SERVICE, site.key) or ""
        except Exception:
            return ""

    def delete(self, name: str) -> None:
        sites = self.load()
        gone = [s for s in sites if s.name == name]
        self._write([s for s in sites if s.name != name])
        kr = _keyring()
        for site in gone:
            if kr is not None:
                try:
                    kr.delete_password(KEYRING_SERVICE, site.key)
                except Exception:
                    pass
