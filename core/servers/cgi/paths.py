"""Map a request path to a file inside the document root or the cgi-bin folder — or refuse.

The rules, in order (each one closes a known hole):

1. the target must start with ``/`` (``cgi-bin/x.py`` is refused, not guessed at);
2. ``%2F`` and NUL are refused: an encoded slash would make one path segment look like two
   after decoding, and a NUL truncates paths in C libraries;
3. the path is percent-decoded exactly once (``%252e`` stays the literal text ``%2e``);
4. ``.`` and ``..`` segments are resolved; one that climbs above ``/`` is refused;
5. segments starting with a dot (``.git``, ``.env``) are never served;
6. the file is resolved with symlinks followed and must still lie inside its folder;
7. nothing inside cgi-bin is ever served as a static file, so script source never leaks
   even when cgi-bin sits inside the document root or a symlink points into it.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_to_bytes

CGI_PREFIX = "/cgi-bin"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PathRefused(Exception):
    """The path cannot be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StaticTarget:
    """A file or folder under the document root."""

    path: Path
    url_path: str
    is_dir: bool = False
    #: what the path walk learnt (lstat of the file itself, or stat of a symlink's target)
    info: os.stat_result | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ScriptTarget:
    """A script in cgi-bin and the URL pieces RFC 3875 hands to it."""

    path: Path
    script_name: str
    path_info: str


def decode_path(raw_path: str) -> str:
    """Percent-decode ``raw_path`` (no query) once and normalise it; raise PathRefused."""
    if not raw_path.startswith("/"):
        raise PathRefused(400, "request target must start with '/'")
    lowered = raw_path.lower()
    if "%2f" in lowered or "%5c" in lowered or "%00" in lowered or "\\" in raw_path:
        raise PathRefused(404, "encoded slash, backslash or NUL in path")
    if "%" in raw_path:
        try:
            decoded = unquote_to_bytes(raw_path).decode("utf-8")
        except UnicodeDecodeError:
            raise PathRefused(400, "path is not valid UTF-8 after decoding") from None
    else:
        decoded = raw_path
    if _CONTROL.search(decoded):
        raise PathRefused(400, "control character in path")
    parts: list[str] = []
    for segment in decoded.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                raise PathRefused(400, "path climbs above the root")
            parts.pop()
            continue
        parts.append(segment)
    trailing = "/" if decoded.endswith(("/", "/.", "/..")) and parts else ""
    return "/" + "/".join(parts) + trailing


def _check_segments(parts: list[str]) -> None:
    for segment in parts:
        if segment.startswith("."):
            raise PathRefused(404, "hidden file or folder")


def _inside(real: str, folder: str) -> bool:
    return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


def _walk(folder: str, parts: list[str]) -> tuple[str, os.stat_result]:
    """Resolve ``folder/parts`` (``folder`` already real): one lstat per part below the
    folder, falling back to a full realpath only where a symlink appears."""
    path = folder
    for i, part in enumerate(parts):
        path = os.path.join(path, part)
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            real = os.path.realpath(os.path.join(path, *parts[i + 1:]), strict=True)
            return real, os.stat(real)
    return path, os.stat(path) if not parts else info


def _resolve(folder: str, parts: list[str], missing: str) -> tuple[str, os.stat_result]:
    try:
        return _walk(folder, parts)
    except (FileNotFoundError, NotADirectoryError):
        raise PathRefused(404, missing) from None
    except (OSError, RuntimeError):  # symlink loop, permission
        raise PathRefused(403, "path cannot be resolved") from None


def resolve_target(raw_path: str, root: Path, cgi_dir: Path) -> StaticTarget | ScriptTarget:
    """Where ``raw_path`` (the request target without its query) leads, or PathRefused.

    ``root`` and ``cgi_dir`` must already be resolved (``Path.resolve()``).
    """
    path = decode_path(raw_path)
    parts = [p for p in path.split("/") if p]
    _check_segments(parts)
    if path == CGI_PREFIX or path.startswith(CGI_PREFIX + "/"):
        return _resolve_script(parts[1:], str(cgi_dir))
    real, info = _resolve(str(root), parts, "no such file")
    if not _inside(real, str(root)):
        raise PathRefused(403, "path leads outside the document root")
    if _inside(real, str(cgi_dir)) or _aliases_scripts(real, str(root), str(cgi_dir)):
        raise PathRefused(403, "scripts are run, never served as files")
    return StaticTarget(Path(real), path, stat.S_ISDIR(info.st_mode), info)


def _aliases_scripts(real: str, root: str, cgi_dir: str) -> bool:
    """True when ``real`` lies in cgi-bin reached under another spelling.

    On a case-insensitive file system (macOS, Windows) ``/CGI-BIN/x.py`` names the same
    file as ``/cgi-bin/x.py`` but passes every string comparison, and so does a bind mount;
    comparing the folder's identity (device, inode) catches both.
    """
    if not _inside(cgi_dir, root) or cgi_dir == root:
        return False  # cgi-bin outside the root is only reachable by paths refused already
    depth = len(cgi_dir[len(root):].strip(os.sep).split(os.sep))
    below = real[len(root):].strip(os.sep).split(os.sep)
    if len(below) <= depth:
        return False
    try:
        return os.path.samestat(os.stat(os.path.join(root, *below[:depth])), os.stat(cgi_dir))
    except OSError:
        return False


def _resolve_script(parts: list[str], cgi_dir: str) -> ScriptTarget:
    """The first existing file among cgi-bin/a, cgi-bin/a/b, ... is the script."""
    if not parts:
        raise PathRefused(403, "cgi-bin cannot be listed")
    for i in range(1, len(parts) + 1):
        real, info = _resolve(cgi_dir, parts[:i], "no such script")
        if not _inside(real, cgi_dir):
            raise PathRefused(403, "script path leads outside cgi-bin")
        if stat.S_ISREG(info.st_mode):
            script_name = CGI_PREFIX + "/" + "/".join(parts[:i])
            path_info = "/" + "/".join(parts[i:]) if i < len(parts) else ""
            return ScriptTarget(Path(real), script_name, path_info)
        if not stat.S_ISDIR(info.st_mode):
            raise PathRefused(403, "not a regular file")
    raise PathRefused(403, "cgi-bin folders cannot be listed")


def translate_path_info(path_info: str, root: Path) -> str:
    """PATH_TRANSLATED: PATH_INFO mapped onto the document root (RFC 3875 4.1.6)."""
    return os.path.join(str(root), *[p for p in path_info.split("/") if p])
