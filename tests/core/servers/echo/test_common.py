"""The 4.3.1 server endpoint, UNIX socket files, limits and connection states."""

from __future__ import annotations

import select
import socket

import pytest

from core.errors import UserError
from core.servers.base import ServerStartError
from core.servers.echo.common import (
    EchoLimits,
    ServerEndpoint,
    describe_peer,
    prepare_unix_path,
)
from core.states import StateError


def test_endpoint_open_establish_close(tmp_path) -> None:
    changes: list[tuple[str, str]] = []
    endpoint = ServerEndpoint("127.0.0.1", 0, on_change=lambda s, d: changes.append((s.name, d)))
    with pytest.raises(StateError, match="Cannot accept while closed"):
        endpoint.machine.require("accept")
    endpoint.open_server()
    assert endpoint.port > 0
    assert endpoint.establish_connection() is None  # non-blocking: nobody is waiting
    client = socket.create_connection(("127.0.0.1", endpoint.port), timeout=5)
    try:
        assert select.select([endpoint.sock], [], [], 5)[0]
        conn = endpoint.establish_connection()
        assert conn is not None
        assert conn.machine.name == "Established"
        assert conn.peer == f"127.0.0.1:{client.getsockname()[1]}"
        conn.abort()
    finally:
        client.close()
    endpoint.close_connection()
    assert [name for name, _ in changes] == ["Listening", "Closed"]
    with pytest.raises(StateError, match="closed"):
        endpoint.machine.require("accept")


def test_stale_unix_socket_is_replaced(tmp_path) -> None:
    path = tmp_path / "stale.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: what a crashed server leaves
    assert path.exists()
    endpoint = ServerEndpoint(path=str(path))
    endpoint.open_server()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(str(path))
    finally:
        endpoint.close_connection()
    assert not path.exists()  # and cleaned up on close


def test_live_unix_socket_is_refused(tmp_path) -> None:
    path = tmp_path / "live.sock"
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(str(path))
    live.listen()
    try:
        with pytest.raises(ServerStartError, match="in use by a running server") as info:
            prepare_unix_path(path)
        assert info.value.field_name == "Path"
        assert path.exists()
    finally:
        live.close()


def test_non_socket_file_is_left_alone(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("keep me")
    with pytest.raises(ServerStartError, match="not a socket"):
        ServerEndpoint(path=str(path)).open_server()
    assert path.read_text() == "keep me"


def test_unwritable_unix_folder_names_the_path(tmp_path) -> None:
    with pytest.raises(ServerStartError, match="Cannot create the socket file") as info:
        ServerEndpoint(path=str(tmp_path / "missing" / "x.sock")).open_server()
    assert info.value.field_name == "Path"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"max_clients": 0}, "Max clients"),
    ({"idle_timeout": 0}, "Idle timeout"),
    ({"buffer_cap": 10}, "Buffer cap"),
])
def test_limits_are_checked(kwargs: dict, field: str) -> None:
    with pytest.raises(UserError) as info:
        EchoLimits(**kwargs).check()
    assert info.value.field_name == field


def test_describe_peer() -> None:
    assert describe_peer(("10.0.0.1", 80)) == "10.0.0.1:80"
    assert describe_peer(("::1", 80, 0, 0)) == "[::1]:80"
    assert describe_peer("").startswith("unix-client#")
