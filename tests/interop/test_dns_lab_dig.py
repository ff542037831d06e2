"""The lab DNS server (``wirebench serve dns``) driven by BIND's ``dig`` (dnsutils).

``dig +trace`` walks root (127.0.0.2) -> ``test.`` (127.0.0.3) -> the authority; ``+tcp``,
``+tls`` (DoT) and ``+https`` (DoH over HTTP/2, GET and POST) get the same answer; a
root-name query leaves every listener serving.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest

from tests.fixtures.daemon_peers import peer_program
from tests.interop.wirebench_serve import WirebenchServe


class Lab:
    def __init__(self, serve: WirebenchServe) -> None:
        self.serve = serve
        self.port = serve.port
        match = re.search(r"DoT and DoH .* on port (\d+)", serve.line)
        assert match, serve.line
        self.tls_port = int(match.group(1))


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    serve = WirebenchServe("dns", "--tls-port", "0")
    yield Lab(serve)
    assert serve.stop() == 0


def dig(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([peer_program("dig", "dnsutils"), "+tries=1", "+time=5", *args],
                          capture_output=True, text=True, timeout=60)


def answers(output: str) -> list[list[str]]:
    """The record lines of dig's output, split into fields."""
    return [line.split() for line in output.splitlines()
            if line and not line.startswith(";")]


def test_dig_supports_the_transports() -> None:
    help_text = dig("-h").stdout
    assert "+[no]https" in help_text and "+[no]tls" in help_text


def test_dig_trace_walks_root_tld_authority(lab: Lab) -> None:
    result = dig("@127.0.0.2", "-p", str(lab.port), "+trace", "www.wirebench.test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "couldn't get address" not in result.stdout
    steps = re.findall(r"^;; Received \d+ bytes from (127\.0\.0\.\d)#(\d+)", result.stdout,
                       re.MULTILINE)
    # priming at the root, root -> test., test. -> wirebench.test., the answer
    assert steps == [("127.0.0.2", str(lab.port)), ("127.0.0.2", str(lab.port)),
                     ("127.0.0.3", str(lab.port)), ("127.0.0.1", str(lab.port))]
    records = answers(result.stdout)
    assert [".", "3600", "IN", "NS", "127.0.0.2."] in records
    assert ["test.", "3600", "IN", "NS", "127.0.0.3."] in records
    assert ["wirebench.test.", "3600", "IN", "NS", "127.0.0.1."] in records
    assert records[-1] == ["www.wirebench.test.", "300", "IN", "A", "127.0.0.1"]


def test_dig_trace_of_a_reverse_name(lab: Lab) -> None:
    result = dig("@127.0.0.2", "-p", str(lab.port), "+trace", "-x", "127.0.0.1")
    assert result.returncode == 0, result.stdout
    assert answers(result.stdout)[-1] == ["1.0.0.127.in-addr.arpa.", "300", "IN", "PTR",
                                          "wirebench.test."]


def test_a_root_name_query_leaves_every_listener_serving(lab: Lab) -> None:
    root = dig("@127.0.0.2", "-p", str(lab.port), ".", "NS")
    assert root.returncode == 0 and "status: NOERROR" in root.stdout, root.stdout
    assert [".", "3600", "IN", "NS", "127.0.0.2."] in answers(root.stdout)
    assert ["127.0.0.2.", "3600", "IN", "A", "127.0.0.2"] in answers(root.stdout)  # glue
    for server in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        for transport in ("+notcp", "+tcp"):
            after = dig(f"@{server}", "-p", str(lab.port), transport, "+short",
                        "ns.test" if server != "127.0.0.1" else "www.wirebench.test")
            assert after.returncode == 0, (server, transport, after.stdout)
    tls = dig("@127.0.0.1", "-p", str(lab.tls_port), "+tls", "+short", "www.wirebench.test")
    assert tls.stdout.split() == ["127.0.0.1"]


@pytest.mark.parametrize(("option", "label"), [
    ("+tcp", "(TCP)"), ("+tls", "(TLS)"), ("+https", "(HTTPS)"), ("+https-get", "(HTTPS-GET)"),
])
def test_every_transport_gets_the_same_answer(lab: Lab, option: str, label: str) -> None:
    port = lab.port if option == "+tcp" else lab.tls_port
    result = dig("@127.0.0.1", "-p", str(port), option, "mail.wirebench.test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "status: NOERROR" in result.stdout and "flags: qr aa" in result.stdout
    assert answers(result.stdout) == [["mail.wirebench.test.", "300", "IN", "A",
                                       "127.0.0.1"]]
    assert f"#{port}(127.0.0.1) {label}" in result.stdout


def test_a_large_answer_over_https_and_tcp(lab: Lab) -> None:
    over_h2 = dig("@127.0.0.1", "-p", str(lab.tls_port), "+https", "+short",
                  "big.wirebench.test")
    over_tcp = dig("@127.0.0.1", "-p", str(lab.port), "+tcp", "+short", "big.wirebench.test")
    assert over_h2.returncode == over_tcp.returncode == 0
    assert len(over_h2.stdout.split()) == 200
    assert sorted(over_h2.stdout.split()) == sorted(over_tcp.stdout.split())


def test_https_on_a_wrong_path_fails_cleanly(lab: Lab) -> None:
    result = dig("@127.0.0.1", "-p", str(lab.tls_port), "+https=/nope", "www.wirebench.test")
    assert result.returncode == 9  # dig: no reply (the server answered 404)
    good = dig("@127.0.0.1", "-p", str(lab.tls_port), "+https", "+short", "www.wirebench.test")
    assert good.stdout.split() == ["127.0.0.1"]
