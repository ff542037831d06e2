"""DoT and DoH on the lab server's TLS port, spoken by hand over real TLS sockets."""

from __future__ import annotations

import base64
import socket
import ssl
import struct

import dns.message


def tls_connection(port: int) -> ssl.SSLSocket:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the lab certificate is self-signed
    raw = socket.create_connection(("127.0.0.1", port), timeout=3)
    return context.wrap_socket(raw)


def read_all(tls: ssl.SSLSocket) -> bytes:
    data = b""
    while chunk := tls.recv(65536):
        data += chunk
    return data


def test_dot_answers_several_queries_on_one_connection(secure_lab) -> None:
    with tls_connection(secure_lab.tls_port) as tls:
        for qid, name in ((1, "www.wirebench.test"), (2, "mail.wirebench.test")):
            wire = dns.message.make_query(name, "A", id=qid).to_wire()
            tls.sendall(struct.pack("!H", len(wire)) + wire)
            size = struct.unpack("!H", tls.recv(2))[0]
            body = b""
            while len(body) < size:
                body += tls.recv(size - len(body))
            reply = dns.message.from_wire(body)
            assert reply.id == qid and reply.answer[0].name.to_text() == name + "."


def test_doh_post_keeps_the_connection_alive(secure_lab) -> None:
    wire = dns.message.make_query("wirebench.test", "MX", id=0).to_wire()
    with tls_connection(secure_lab.tls_port) as tls:
        for _ in range(2):
            tls.sendall(b"POST /dns-query HTTP/1.1\r\nHost: lab\r\n"
                        b"Content-Type: application/dns-message\r\n"
                        + f"Content-Length: {len(wire)}\r\n\r\n".encode() + wire)
            head = b""
            while b"\r\n\r\n" not in head:
                head += tls.recv(1)
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            body = b""
            while len(body) < length:
                body += tls.recv(length - len(body))
            assert b"200 OK" in head and b"keep-alive" in head
            assert len(dns.message.from_wire(body).answer[0]) == 2


def test_bad_content_length_closes(secure_lab) -> None:
    with tls_connection(secure_lab.tls_port) as tls:
        tls.sendall(b"POST /dns-query HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        assert b"400" in read_all(tls).split(b"\r\n")[0]


def test_doh_get_and_bad_requests(secure_lab) -> None:
    wire = dns.message.make_query("www.wirebench.test", "A", id=0).to_wire()
    param = base64.urlsafe_b64encode(wire).rstrip(b"=").decode()
    requests = {
        f"GET /dns-query?dns={param} HTTP/1.1": b"200 OK",
        "GET /elsewhere HTTP/1.1": b"404",
        "DELETE /dns-query HTTP/1.1": b"405",
        "GET /dns-query?dns=!!! HTTP/1.1": b"400",
    }
    for line, expected in requests.items():
        with tls_connection(secure_lab.tls_port) as tls:
            tls.sendall(f"{line}\r\nHost: lab\r\nConnection: close\r\n\r\n".encode())
            data = read_all(tls)
        head, _, body = data.partition(b"\r\n\r\n")
        assert expected in head.split(b"\r\n")[0], (line, head)
        if expected == b"200 OK":
            assert b"application/dns-message" in head
            assert dns.message.from_wire(body).answer[0][0].address == "127.0.0.1"


def test_doh_refuses_bad_heads_with_the_shared_reader_and_keeps_serving(secure_lab) -> None:
    """The DoH endpoint reads heads with core/servers/http_head.py: same limits, statuses."""
    bad = {
        b"GET /dns-query HTTP/1.1\r\nHost: lab\r\n" + b"X-Pad: " + b"p" * 20000 + b"\r\n\r\n":
            b"431",
        b"GET /dns-query HTTP/1.1\r\n\r\n": b"400",  # HTTP/1.1 without Host
        b"GET /dns-query HTTP/2.0\r\nHost: lab\r\n\r\n": b"505",
        b"POST /dns-query HTTP/1.1\r\nHost: lab\r\nContent-Length: 70000\r\n\r\n": b"413",
    }
    for request, status in bad.items():
        with tls_connection(secure_lab.tls_port) as tls:
            tls.sendall(request)
            assert status in read_all(tls).split(b"\r\n")[0], request[:60]
    test_doh_get_and_bad_requests(secure_lab)  # the server still answers good requests
