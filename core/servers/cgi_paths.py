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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

CGI_PREFIX = "/cgi-bin"


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
    try:
        decoded = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        raise PathRefused(400, "path is not valid UTF-8 after decoding") from None
    if "\x00" in decoded or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded):
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


def _contained(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def resolve_target(raw_path: str, root: Path, cgi_dir: Path) -> StaticTarget | ScriptTarget:
    """Where ``raw_path`` (the request target without its query) leads, or PathRefused.

    ``root`` and ``cgi_dir`` must already be resolved (``Path.resolve()``).
    """
    path = decode_path(raw_path)
    parts = [p for p in path.split("/") if p]
    _check_segments(parts)
    if path == CGI_PREFIX or path.startswith(CGI_PREFIX + "/"):
        return _resolve_script(parts[1:], cgi_dir)
    candidate = root.joinpath(*parts)
    try:
        real = candidate.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise PathRefused(404, "no such file") from None
    except (OSError, RuntimeError):  # symlink loop, permission
        raise PathRefused(403, "path cannot be resolved") from None
    if not _contained(real, root):
        raise PathRefused(403, "path leads outside the document root")
    if _contained(real, cgi_dir):
        raise PathRefused(403, "scripts are run, never served as files")
    return StaticTarget(real, path)


def _resolve_script(parts: list[str], cgi_dir: Path) -> ScriptTarget:
    """The first existing file among cgi-bin/a, cgi-bin/a/b, ... is the script."""
    if not parts:
        raise PathRefused(403, "cgi-bin cannot be listed")
    for i in range(1, len(parts) + 1):
        candidate = cgi_dir.joinpath(*parts[:i])
        try:
            real = candidate.resolve(strict=True)
        except (FileNotFoundError, NotADirectoryError):
            raise PathRefused(404, "no such script") from None
        except (OSError, RuntimeError):
            raise PathRefused(403, "script path cannot be resolved") from None
        if not _contained(real, cgi_dir):
            raise PathRefused(403, "script path leads outside cgi-bin")
        if real.is_file():
            script_name = CGI_PREFIX + "/" + "/".join(parts[:i])
            path_info = "/" + "/".join(parts[i:]) if i < len(parts) else ""
            return ScriptTarget(real, script_name, path_info)
        if not real.is_dir():
            raise PathRefused(403, "not a regular file")
    raise PathRefused(403, "cgi-bin folders cannot be listed")


def translate_path_info(path_info: str, root: Path) -> str:
    """PATH_TRANSLATED: PATH_INFO mapped onto the document root (RFC 3875 4.1.6)."""
    return os.path.join(str(root), *[p for p in path_info.split("/") if p])
