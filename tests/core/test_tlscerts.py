from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest

from core.errors import UserError
from core.tlscerts import client_context, describe_tls, self_signed, server_context


def _tls_echo_once(ctx: ssl.SSLContext) -> tuple[socket.socket, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(tls.recv(100))
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_self_signed_is_reused_and_verifies_as_its_own_ca(tmp_path: Path) -> None:
    cert, key = self_signed(folder=tmp_path)
    assert self_signed(folder=tmp_path) == (cert, key)
    assert oct(key.stat().st_mode)[-3:] == "600"
    listener, thread = _tls_echo_once(server_context(cert, key))
    port = listener.getsockname()[1]
    ctx = client_context(ca_file=cert)
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(b"ping")
        assert tls.recv(10) == b"ping"
        info = describe_tls(tls)
        assert info["version"].startswith("TLS") and info["subject"] == "localhost"
    thread.join(5)
    listener.close()


def test_verification_is_on_by_default(tmp_path: Path) -> None:
    cert, key = self_signed(folder=tmp_path)
    listener, thread = _tls_echo_once(server_context(cert, key))
    port = listener.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):
        client_context().wrap_socket(raw, server_hostname="localhost")
    thread.join(5)
    listener.close()


def test_verification_off_is_explicit(tmp_path: Path) -> None:
    ctx = client_context(verify=False)
    assert ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname
    assert client_context().verify_mode == ssl.CERT_REQUIRED


def test_bad_files_are_user_errors(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(UserError) as info:
        client_context(ca_file=bogus)
    assert info.value.field_name == "CA file"
    with pytest.raises(UserError):
        server_context(bogus, bogus)
