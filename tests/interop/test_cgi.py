"""One cgi-bin under lighttpd's mod_cgi and under ``wirebench serve cgi --root DIR``.

The script dumps its environment as JSON. For each request both servers must give the
same status, body and RFC 3875 meta-variables; where they differ on purpose, the
difference is listed in ``OURS_DIFFERS`` with our value and the RFC 3875 section that
allows it, and the test pins our value.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.interop.cgi_peers import Lighttpd, make_site
from tests.interop.wirebench_serve import WirebenchServe

#: lighttpd-only extensions outside RFC 3875 (which names the variables a script can
#: rely on); our server does not set them
LIGHTTPD_EXTRAS = {"REQUEST_SCHEME", "SERVER_ADDR"}
#: our SERVER_SOFTWARE names us (RFC 3875 4.1.17: "the name and version of the server")
SOFTWARE = {"lighttpd": "lighttpd", "wirebench": "Wirebench/"}


@dataclass
class Peers:
    root: Path
    ports: dict[str, int]


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peers]:
    base = tmp_path_factory.mktemp("cgi-interop")
    root = make_site(base)
    lighttpd = Lighttpd(root, base)
    try:
        ours = WirebenchServe("cgi", "--root", str(root))
    except BaseException:
        lighttpd.stop()
        raise
    yield Peers(root, {"lighttpd": lighttpd.port, "wirebench": ours.port})
    assert ours.stop() == 0  # SIGTERM is a clean stop, exit code 0
    lighttpd.stop()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def dump(self) -> dict:
        return json.loads(self.body)


def ask(port: int, method: str, target: str, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()


def both(peers: Peers, method: str, target: str, **kw) -> dict[str, Answer]:
    return {name: ask(port, method, target, **kw) for name, port in peers.ports.items()}


def meta(peers: Peers, name: str, answer: Answer) -> dict[str, str]:
    """The script's environment with this server's port replaced by PORT."""
    port = str(peers.ports[name])
    env = answer.dump()["env"]
    return {k: v.replace(port, "PORT") for k, v in env.items()
            if k not in ("REMOTE_PORT", "SERVER_SOFTWARE") and k not in LIGHTTPD_EXTRAS}


def compare(peers: Peers, answers: dict[str, Answer]) -> tuple[dict, dict, dict[str, tuple]]:
    """Both environments and their differences {name: (lighttpd, ours)}."""
    assert answers["lighttpd"].status == answers["wirebench"].status == 200
    for name, answer in answers.items():
        assert answer.dump()["env"]["SERVER_SOFTWARE"].startswith(SOFTWARE[name])
    theirs = meta(peers, "lighttpd", answers["lighttpd"])
    ours = meta(peers, "wirebench", answers["wirebench"])
    differ = {k: (theirs.get(k), ours.get(k)) for k in set(theirs) | set(ours)
              if theirs.get(k) != ours.get(k)}
    return theirs, ours, differ


# Where we differ from lighttpd, on purpose (our value, then why):
#  CONTENT_LENGTH without a body: lighttpd sets "0"; we leave it unset — RFC 3875 4.1.2
#    "The server MUST set this meta-variable if and only if the request is accompanied
#    by a message-body entity".
#  PATH_INFO without extra path: lighttpd leaves it unset; we set "" — RFC 3875 4.1.5
#    defines PATH_INFO = "" | ( "/" path ), so an empty value is the documented form.
#  REMOTE_HOST: lighttpd leaves it unset; we give the address — RFC 3875 4.1.9 "If the
#    hostname is not available ... the server MAY substitute the REMOTE_ADDR value".
#  HTTP_CONTENT_LENGTH: lighttpd passes the header again; we do not — RFC 3875 4.1.18
#    "it MAY remove header fields that are already available via other meta-variables,
#    such as Content-Length and Content-Type".
NO_BODY = {"CONTENT_LENGTH": ("0", None), "REMOTE_HOST": (None, "127.0.0.1")}
NO_PATH_INFO = {"PATH_INFO": (None, "")}


def test_get_with_a_query(peers: Peers) -> None:
    theirs, ours, differ = compare(peers, both(peers, "GET", "/cgi-bin/env.py?a=1&b=x%20y"))
    assert differ == NO_BODY | NO_PATH_INFO
    expected = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
                "SCRIPT_NAME": "/cgi-bin/env.py", "QUERY_STRING": "a=1&b=x%20y",
                "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "PORT",
                "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
                "REQUEST_URI": "/cgi-bin/env.py?a=1&b=x%20y",
                "SCRIPT_FILENAME": str(peers.root / "cgi-bin" / "env.py"),
                "DOCUMENT_ROOT": str(peers.root), "HTTP_HOST": "127.0.0.1:PORT"}
    for env in (theirs, ours):
        assert {k: env.get(k) for k in expected} == expected
    assert "PATH_TRANSLATED" not in ours and "CONTENT_TYPE" not in ours


def test_post_with_a_form_body(peers: Peers) -> None:
    form = b"name=v%C3%A4l&x=1"
    answers = both(peers, "POST", "/cgi-bin/env.py?q=1", body=form,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    theirs, ours, differ = compare(peers, answers)
    assert differ == {"HTTP_CONTENT_LENGTH": ("17", None), "REMOTE_HOST": (None, "127.0.0.1")
                      } | NO_PATH_INFO
    for name, answer in answers.items():
        assert answer.dump()["body"] == form.decode(), name  # stdin carries the body
    for env in (theirs, ours):
        assert (env["REQUEST_METHOD"], env["CONTENT_LENGTH"], env["CONTENT_TYPE"],
                env["QUERY_STRING"]) == ("POST", "17", "application/x-www-form-urlencoded",
                                         "q=1")


def test_path_info_is_decoded_and_translated(peers: Peers) -> None:
    theirs, ours, differ = compare(peers,
                                   both(peers, "GET", "/cgi-bin/env.py/extra/p%20ath?z"))
    assert differ == NO_BODY
    for env in (theirs, ours):
        # RFC 3875 4.1.5 and 4.1.6: PATH_INFO is decoded; PATH_TRANSLATED maps it
        # onto the document root
        assert (env["SCRIPT_NAME"], env["PATH_INFO"], env["PATH_TRANSLATED"],
                env["QUERY_STRING"]) == ("/cgi-bin/env.py", "/extra/p ath",
                                         str(peers.root / "extra" / "p ath"), "z")
        assert env["REQUEST_URI"] == "/cgi-bin/env.py/extra/p%20ath?z"


def test_an_encoded_script_name_and_extra_headers(peers: Peers) -> None:
    answers = both(peers, "GET", "/cgi-bin/my%20env.py",
                   headers={"X-Custom": "yes", "Cookie": "a=1"})
    theirs, ours, differ = compare(peers, answers)
    assert differ == NO_BODY | NO_PATH_INFO
    for env in (theirs, ours):
        assert env["SCRIPT_NAME"] == "/cgi-bin/my env.py"  # decoded (RFC 3875 4.1.13)
        assert env["SCRIPT_FILENAME"] == str(peers.root / "cgi-bin" / "my env.py")
        assert (env["HTTP_X_CUSTOM"], env["HTTP_COOKIE"]) == ("yes", "a=1")


def test_head_runs_the_script_and_sends_no_body(peers: Peers) -> None:
    answers = both(peers, "HEAD", "/cgi-bin/env.py")
    for name, answer in answers.items():
        assert answer.status == 200, name
        assert answer.body == b"", name
        assert answer.headers["Content-Type"] == "application/json", name
        # the script saw REQUEST_METHOD=HEAD (RFC 3875 4.3.2: it MAY skip the body)
        assert answer.headers["X-Request-Method"] == "HEAD", name
    # framing differs: lighttpd buffers the script and sends Content-Length; we stream
    # (chunked), which RFC 9110 9.3.2 allows for HEAD as it would be for GET
    assert answers["lighttpd"].headers["Content-Length"].isdigit()
    assert answers["wirebench"].headers["Transfer-Encoding"] == "chunked"


def test_the_same_static_page_and_missing_script(peers: Peers) -> None:
    for name, port in peers.ports.items():
        page = ask(port, "GET", "/index.html")
        assert (page.status, page.body) == (200, b"<p>interop</p>\n"), name
        assert ask(port, "GET", "/cgi-bin/nope.py").status == 404, name
