"""The shared echo loop over real sockets: copy for small reads, splice for bulk."""

from __future__ import annotations

import errno
import os
import socket
import threading
from collections.abc import Iterator

import pytest

from core.servers.echo import relay
from core.servers.echo.relay import Counters, echo_until_eof

SIZE = 64 * 1024


class Splices:
    """Counts the real os.splice calls (it still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = os.splice

        def counted(*args: object) -> int:
            self.calls += 1
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(relay.os, "splice", counted)


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=10)
        server, _ = listener.accept()
    server.setblocking(True)
    yield client, server
    client.close()
    server.close()


def serve(server: socket.socket, traffic: Counters) -> threading.Thread:
    def run() -> None:
        try:
            echo_until_eof(server, traffic, SIZE)
        except OSError as exc:
            errors.append(exc)
        finally:
            done.set()
    errors: list[OSError] = []
    done = threading.Event()
    thread = threading.Thread(target=run, daemon=True)
    thread.errors, thread.done = errors, done  # type: ignore[attr-defined]
    thread.start()
    return thread


def exchange(client: socket.socket, payload: bytes) -> bytes:
    """Send ``payload`` while reading the echo (a peer that reads as it sends)."""
    got = bytearray()
    sender = threading.Thread(target=client.sendall, args=(payload,), daemon=True)
    sender.start()
    while len(got) < len(payload):
        chunk = client.recv(1 << 20)
        assert chunk, "the echo ended early"
        got += chunk
    sender.join(10)
    return bytes(got)


def test_small_messages_are_echoed_by_the_copy_loop(tcp_pair, monkeypatch) -> None:  # noqa: ANN001
    splices = Splices(monkeypatch)
    client, server = tcp_pair
    traffic = Counters()
    thread = serve(server, traffic)
    for i in range(50):
        message = bytes([i]) * 1000
        assert exchange(client, message) == message
    client.shutdown(socket.SHUT_WR)
    assert thread.done.wait(10) and not thread.errors
    assert splices.calls == 0
    assert (traffic.bytes_in, traffic.bytes_out) == (50_000, 50_000)
    assert traffic.requests >= 50


@pytest.mark.skipif(not relay.SPLICE, reason="splice() is Linux only")
def test_bulk_goes_through_splice_byte_exact_to_eof(tcp_pair, monkeypatch) -> None:  # noqa: ANN001
    """A read that fills the buffer switches to splice; every byte comes back in
    order, the counters add up, and the peer's EOF ends the loop."""
    splices = Splices(monkeypatch)
    client, server = tcp_pair
    traffic = Counters()
    thread = serve(server, traffic)
    payload = os.urandom(3 << 20)
    assert exchange(client, payload) == payload
    tail = b"small after bulk"
    assert exchange(client, tail) == tail
    client.shutdown(socket.SHUT_WR)
    assert thread.done.wait(10) and not thread.errors
    assert splices.calls > 0
    total = len(payload) + len(tail)
    assert (traffic.bytes_in, traffic.bytes_out) == (total, total)


@pytest.mark.skipif(not relay.SPLICE, reason="splice() is Linux only")
def test_a_shutdown_from_another_thread_ends_a_splice(tcp_pair, monkeypatch) -> None:  # noqa: ANN001
    """What the idle sweep and stop() do: shut the socket down; the loop returns."""
    splices = Splices(monkeypatch)
    client, server = tcp_pair
    thread = serve(server, Counters())
    assert exchange(client, os.urandom(1 << 20))
    assert splices.calls > 0 and not thread.done.is_set()
    server.shutdown(socket.SHUT_RDWR)
    assert thread.done.wait(10)


def test_without_a_pipe_the_copy_loop_carries_bulk_on(tcp_pair, monkeypatch) -> None:  # noqa: ANN001
    def no_pipe() -> tuple[int, int]:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(relay.os, "pipe", no_pipe)
    client, server = tcp_pair
    traffic = Counters()
    thread = serve(server, traffic)
    payload = os.urandom(1 << 20)
    assert exchange(client, payload) == payload
    client.shutdown(socket.SHUT_WR)
    assert thread.done.wait(10) and not thread.errors
    assert traffic.bytes_out == len(payload)


def test_unix_stream_sockets_echo_bulk_too() -> None:
    a, b = socket.socketpair()
    with a, b:
        traffic = Counters()
        thread = serve(b, traffic)
        a.settimeout(10)
        payload = os.urandom(1 << 20)
        assert exchange(a, payload) == payload
        a.shutdown(socket.SHUT_WR)
        assert thread.done.wait(10) and not thread.errors
        assert traffic.bytes_out == len(payload)
