"""The RFC 3875 section 4.1 meta-variables a CGI script receives, built fresh per request.

Nothing is copied from the server's own environment except ``PATH`` (so ``#!/usr/bin/env
sh`` works) and a few locale/system variables; the server's ``os.environ`` is never changed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.version import __version__

SERVER_SOFTWARE = f"Wirebench/{__version__}"
DATA_DIR_VARIABLE = "WIREBENCH_DATA_DIR"

#: inherited from the server so scripts find programs and keep the user's locale
_INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "COMSPEC", "TMPDIR")

#: request headers never passed as HTTP_*: the body's own two have their own variables
#: (and the server de-chunks it), credentials stay with the server (RFC 3875 4.1.18), and
#: ``Proxy:`` would become HTTP_PROXY, which many HTTP libraries obey as a proxy setting
#: ("httpoxy", CVE-2016-5385)
_WITHHELD = frozenset({"content-length", "content-type", "transfer-encoding",
                       "authorization", "proxy-authorization", "proxy"})

_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$")


@dataclass(frozen=True, slots=True)
class CgiRequest:
    """What the server knows about one request, in the terms of RFC 3875."""

    method: str
    protocol: str
    script_name: str
    path_info: str
    path_translated: str
    query_string: str
    request_uri: str
    headers: Iterable[tuple[str, str]]
    remote_addr: str
    remote_port: int
    server_host: str
    server_port: int
    script_filename: str
    document_root: str
    body_length: int | None
    content_type: str | None


def server_name(host_header: str | None, fallback: str) -> str:
    """SERVER_NAME: the Host header's name part when it is a plain host name, else the bind."""
    if host_header:
        name = host_header.strip()
        if name.startswith("["):
            name = name.split("]", 1)[0] + "]"
        elif name.count(":") == 1:
            name = name.split(":", 1)[0]
        if _HOST_NAME.match(name):
            return name
    return fallback


def header_variables(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """HTTP_* variables: repeated headers joined with ", " (cookies with "; ")."""
    found: dict[str, list[str]] = {}
    for name, value in headers:
        # a header spelled with "_" would collide with its "-" twin once converted
        # (Content_Length vs Content-Length); Apache and nginx drop them too
        if not _HEADER_NAME.match(name) or name.lower() in _WITHHELD:
            continue
        found.setdefault("HTTP_" + name.upper().replace("-", "_"), []).append(value.strip())
    return {key: ("; " if key == "HTTP_COOKIE" else ", ").join(values)
            for key, values in found.items()}


def inherited_variables() -> dict[str, str]:
    """What a script's environment takes from the server's: PATH, locale, a few system."""
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.setdefault("PATH", os.defpath)
    return env


def build_environ(request: CgiRequest, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The complete environment for one script run."""
    env = inherited_variables()
    headers = list(request.headers)
    env.update(header_variables(headers))
    host_header = next((v for n, v in headers if n.lower() == "host"), None)
    env.update({
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": SERVER_SOFTWARE,
        "SERVER_NAME": server_name(host_header, request.server_host),
        "SERVER_PORT": str(request.server_port),
        "SERVER_PROTOCOL": request.protocol,
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": request.script_name,
        "PATH_INFO": request.path_info,
        "QUERY_STRING": request.query_string,
        "REMOTE_ADDR": request.remote_addr,
        "REMOTE_HOST": request.remote_addr,
        "REMOTE_PORT": str(request.remote_port),
        # common extensions (Apache, lighttpd) that scripts rely on
        "REQUEST_URI": request.request_uri,
        "SCRIPT_FILENAME": request.script_filename,
        "DOCUMENT_ROOT": request.document_root,
        "REDIRECT_STATUS": "200",
    })
    if request.path_info:
        env["PATH_TRANSLATED"] = request.path_translated
    if request.body_length is not None:
        env["CONTENT_LENGTH"] = str(request.body_length)
        if request.content_type:
            env["CONTENT_TYPE"] = request.content_type
    if extra:
        env.update(extra)
    return env
