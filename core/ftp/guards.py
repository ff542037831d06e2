"""Guards between untrusted input and the wire or the disk.

* Nothing with CR, LF or NUL reaches an FTP command: it would let a file name smuggle a
  second command onto the control connection.
* A name that came from the server is a single path component inside the folder the user
  chose: ``../x``, ``/etc/x``, ``a/b`` and control characters can never escape it.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import UserError

_FORBIDDEN = re.compile(r"[\r\n\x00]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_argument(value: str, field_name: str) -> str:
    """Return ``value`` or raise :class:`UserError` if it could inject a command."""
    if _FORBIDDEN.search(value):
        raise UserError(
            f"{field_name} contains a line break or NUL, which FTP cannot carry: "
            "remove it and try again.", field_name)
    return value


def local_component(remote_name: str) -> str:
    """A remote name reduced to one safe local file name component.

    Path separators and control characters become ``_``; the name is the last component
    of whatever path the server sent; ``.``/``..``/empty are refused.
    """
    name = remote_name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("_", name)
    # undecodable bytes are kept as surrogates by the listing; the disk wants real text
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if name in ("", ".", ".."):
        raise UserError(f"The server sent the name {remote_name!r}, which is not a file "
                        "name; it was skipped.", "Remote name")
    return name


def safe_local_path(folder: Path, remote_name: str) -> Path:
    """``folder / local_component(remote_name)``, proven to stay inside ``folder``."""
    root = Path(folder).resolve()
    target = (root / local_component(remote_name)).resolve()
    if target.parent != root:
        raise UserError(f"The server name {remote_name!r} would write outside "
                        f"{root}; it was skipped.", "Remote name")
    return target
