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
