"""The interop frame itself, against socat (the simplest third-party daemon)."""

from __future__ import annotations

import socket

import pytest

from tests.interop.conftest import LOOPBACK, free_port, peer_binary, tcp_answers


def test_a_daemon_starts_answers_and_is_stopped(start_daemon) -> None:
    socat = peer_binary("socat")
    peer = start_daemon("socat", lambda port: [
        socat, f"TCP-LISTEN:{port},bind={LOOPBACK},reuseaddr,fork", "EXEC:cat"])
    with socket.create_connection((LOOPBACK, peer.port), timeout=5) as conn:
        conn.sendall(b"ping\n")
        assert conn.recv(16) == b"ping\n"
    assert peer.stop() is not None
    assert not tcp_answers(peer.port)


def test_a_daemon_that_exits_fails_the_start_with_its_output(start_daemon) -> None:
    with pytest.raises(pytest.fail.Exception, match="exited with 1: broken config"):
        start_daemon("false", lambda port: ["sh", "-c", "echo broken config; exit 1"])


def test_a_missing_peer_fails_instead_of_skipping() -> None:
    with pytest.raises(pytest.fail.Exception, match="setup.sh --test"):
        peer_binary("no-such-peer-wirebench")


def test_free_port_is_bindable() -> None:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, free_port()))


# programs the fixtures run that are tools of the machine, not peers under test
MACHINE_TOOLS = {"useradd", "chpasswd", "userdel", "postconf", "sh"}


def test_the_readme_table_names_every_peer_the_suite_runs() -> None:
    """README's Interoperability table is kept in step with the suite."""
    import re
    from pathlib import Path

    here = Path(__file__).parent
    sources = "\n".join(p.read_text() for p in sorted(here.glob("*.py"))
                        if p.name not in ("conftest.py", "test_frame.py"))  # examples
    used = set(re.findall(r'peer_(?:binary|program)\(\s*"([^"]+)"', sources)) - MACHINE_TOOLS
    readme = (here.parents[1] / "README.md").read_text()
    section = readme.split("## Interoperability", 1)[1].split("\n## ", 1)[0].lower()
    assert used, "no peer found in tests/interop"
    assert [name for name in sorted(used) if name.lower() not in section] == []
