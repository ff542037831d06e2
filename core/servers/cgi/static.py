"""Static files of the CGI server: directory index or listing, cache, conditional and
range requests (If-Modified-Since, Range, If-Range), HEAD, and sendfile for large files.

:class:`StaticFiles` is a mixin of :class:`core.servers.cgi.handler.CgiRequestHandler`;
it answers through the handler's response writers.
"""

from __future__ import annotations

import email.utils
import functools
import mimetypes
import os
from pathlib import Path
from typing import BinaryIO

from core.servers.cgi.filecache import file_key
from core.servers.cgi.pages import error_page, listing_page
from core.servers.cgi.paths import PathRefused, StaticTarget, resolve_target
from core.servers.cgi.request import byte_range
from core.servers.http_head import HttpError


class StaticFiles:
    """Serves a :class:`StaticTarget` for GET and HEAD."""

    def _serve_static(self, target: StaticTarget, method: str, query: str) -> None:
        if method not in ("GET", "HEAD"):
            self._reply(405, error_page(405, f"{method} is not allowed on a file."),
                        [("Allow", "GET, HEAD")], "text/html; charset=utf-8")
            return
        path, info = target.path, target.info
        if target.is_dir:
            if not target.url_path.endswith("/"):
                location = target.url_path + "/" + (f"?{query}" if query else "")
                self._reply(301, b"", [("Location", location)], "text/html")
                return
            try:
                index = resolve_target(target.url_path + "index.html",
                                       self.controller.real_root, self.controller.real_cgi_dir)
            except PathRefused:
                index = None
            if isinstance(index, StaticTarget) and not index.is_dir:
                path, info = index.path, index.info
            else:
                page = listing_page(target.url_path, path)
                self._reply(200, page, [], "text/html; charset=utf-8", head_only=method == "HEAD")
                return
        cache = self.controller.file_cache
        if info is not None and info.st_size <= cache.max_file:
            content = cache.get(file_key(str(path), info))
            if content is not None:
                self._send_file(path, info, method, content)
                return
        try:
            handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the with below
        except OSError:
            raise HttpError(403, "the file cannot be read") from None
        with handle:
            info = os.fstat(handle.fileno())
            if info.st_size <= cache.max_file:
                content = handle.read()
                cache.put(file_key(str(path), info), content)
                self._send_file(path, info, method, content)
            else:
                self._send_file(path, info, method, handle)

    def _send_file(self, path: Path, info: os.stat_result, method: str,
                   source: bytes | BinaryIO) -> None:
        """Answer with ``source`` (contents, or an open file to sendfile from): handles
        If-Modified-Since (304), Range (206/416) and HEAD."""
        modified = http_date(int(info.st_mtime))
        head = self.head
        assert head is not None
        since = head.header("If-Modified-Since")
        if since and _not_modified(since, info.st_mtime):
            self._reply(304, b"", [("Last-Modified", modified)], None, head_only=True)
            return
        wanted = head.header("Range")
        if wanted and head.header("If-Range") not in (None, modified):
            wanted = None  # the file changed since the client's partial copy
        try:
            span = byte_range(wanted, info.st_size)
        except HttpError:
            self._reply(416, b"", [("Content-Range", f"bytes */{info.st_size}")], None)
            return
        first, last = span if span else (0, info.st_size - 1)
        length = last - first + 1
        headers = [("Content-Type", _content_type(path.suffix)),
                   ("Content-Length", str(length)), ("Last-Modified", modified),
                   ("Accept-Ranges", "bytes")]
        status = 200
        if span:
            status = 206
            headers.append(("Content-Range", f"bytes {first}-{last}/{info.st_size}"))
        if method == "HEAD":
            self._start_response(status, headers)
        elif isinstance(source, bytes):
            # one write for head and body: small files are most requests
            self._start_response(status, headers, body=source[first:first + length])
        else:
            self._start_response(status, headers)
            if length:
                self._sent(self.connection.sendfile(source, first, length))
        self._access(length if method == "GET" else 0)


@functools.lru_cache(maxsize=256)
def _content_type(suffix: str) -> str:
    ctype = mimetypes.guess_type("x" + suffix)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
        ctype += "; charset=utf-8"
    return ctype


@functools.lru_cache(maxsize=1024)
def http_date(seconds: int) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


def _not_modified(since: str, mtime: float) -> bool:
    try:
        parsed = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if parsed is None:
        return False
    return int(mtime) <= parsed.timestamp()
