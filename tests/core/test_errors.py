from __future__ import annotations

import errno
import socket
import ssl

import pytest

from core.errors import UserError, check_port, describe_error


@pytest.mark.parametrize("value", ["80", 80, " 65535 ", "1"])
def test_check_port_accepts_valid(value: object) -> None:
    assert 1 <= check_port(value) <= 65535  # type: ignore[arg-type]


@pytest.mark.parametrize("value,needle", [("70000", "70000"), ("0", "got 0"), ("http", "'http'"),
                                          ("", "''")])
def test_check_port_names_field_and_value(value: str, needle: str) -> None:
    with pytest.raises(UserError) as info:
        check_port(value, "Port")
    assert "Port must be" in str(info.value) and needle in str(info.value)
    assert info.value.field_name == "Port"


def test_real_refused_connection_is_described() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(OSError) as info:
        socket.create_connection(("127.0.0.1", port), timeout=2)
    text = describe_error(info.value, f"to 127.0.0.1:{port}")
    assert text.startswith("Connection refused") and str(port) in text


def test_real_address_in_use_is_described() -> None:
    a = socket.socket()
    a.bind(("127.0.0.1", 0))
    a.listen()
    b = socket.socket()
    try:
        with pytest.raises(OSError) as info:
            b.bind(a.getsockname())
        assert info.value.errno == errno.EADDRINUSE
        assert describe_error(info.value).startswith("Address in use")
    finally:
        a.close()
        b.close()


def test_name_not_found_and_tls_and_timeout() -> None:
    assert describe_error(socket.gaierror(-2, "Name or service not known")).startswith(
        "Name not found")
    assert "Timed out" in describe_error(TimeoutError())
    assert "TLS" in describe_error(ssl.SSLError(1, "wrong version"))
    assert "Permission denied" in describe_error(PermissionError(13, "denied"))


def test_check_host_and_check_number_name_the_field() -> None:
    from core.errors import check_host, check_number

    assert check_host(" 127.0.0.1 ") == "127.0.0.1"
    for bad, needle in (("", "is empty"), ("a b", "must not contain spaces")):
        with pytest.raises(UserError, match=needle) as info:
            check_host(bad, "Bind host")
        assert info.value.field_name == "Bind host"
    assert check_number(" 3 ", "Max clients", 1) == 3
    assert check_number("2.5", "Idle timeout", 0.001, float) == 2.5
    with pytest.raises(UserError, match="Max clients must be a number, got 'many'"):
        check_number("many", "Max clients", 1)
    with pytest.raises(UserError, match="Buffer cap must be at least 1, got 0") as info:
        check_number("0", "Buffer cap", 1)
    assert info.value.field_name == "Buffer cap"
