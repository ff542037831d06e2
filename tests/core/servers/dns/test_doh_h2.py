"""DoH over HTTP/2 on the lab server's TLS port, spoken with the h2 library's client side."""

from __future__ import annotations

import base64
import socket
import ssl
import time

import dns.message
import dns.rcode
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import pytest

from core.servers.dns.zones import BIG_RECORDS


class H2Client:
    """One HTTP/2 connection (ALPN h2) to the lab's DoH, a request at a time or several."""

    def __init__(self, port: int, window: int | None = None) -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the lab certificate is self-signed
        context.set_alpn_protocols(["h2"])
        self.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                                 timeout=5))
        assert self.sock.selected_alpn_protocol() == "h2"
        self.link = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.link.initiate_connection()
        if window is not None:  # a small window: the server must wait for our updates
            self.link.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.sock.sendall(self.link.data_to_send())
        self.responses: dict[int, dict] = {}

    def request(self, method: str, path: str, body: bytes = b"") -> int:
        stream = self.link.get_next_available_stream_id()
        headers = [(":method", method), (":path", path), (":scheme", "https"),
                   (":authority", "127.0.0.1"), ("accept", "application/dns-message")]
        if body:
            headers += [("content-type", "application/dns-message"),
                        ("content-length", str(len(body)))]
        self.link.send_headers(stream, headers, end_stream=not body)
        if body:
            self.link.send_data(stream, body, end_stream=True)
        self.sock.sendall(self.link.data_to_send())
        self.responses[stream] = {"body": b"", "done": False}
        return stream

    def wait(self, *streams: int, timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while not all(self.responses[s]["done"] for s in streams):
            assert time.monotonic() < end, "no complete response in time"
            data = self.sock.recv(65536)
            assert data, "the server closed the connection"
            for event in self.link.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    self.responses[event.stream_id]["headers"] = dict(
                        (k.decode(), v.decode()) for k, v in event.headers)
                elif isinstance(event, h2.events.DataReceived):
                    self.responses[event.stream_id]["body"] += event.data
                    self.link.acknowledge_received_data(event.flow_controlled_length,
                                                        event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    self.responses[event.stream_id]["done"] = True
            self.sock.sendall(self.link.data_to_send())

    def close(self) -> None:
        self.link.close_connection()
        self.sock.sendall(self.link.data_to_send())
        self.sock.close()


@pytest.fixture
def client(secure_lab):
    c = H2Client(secure_lab.tls_port)
    yield c
    c.close()


def query_wire(name: str, qid: int = 0) -> bytes:
    return dns.message.make_query(name, "A", id=qid).to_wire()


def test_post_and_get_on_one_connection(client: H2Client) -> None:
    post = client.request("POST", "/dns-query", query_wire("www.wirebench.test"))
    encoded = base64.urlsafe_b64encode(query_wire("mail.wirebench.test")).rstrip(b"=")
    get = client.request("GET", "/dns-query?dns=" + encoded.decode())
    client.wait(post, get)  # two streams in flight at once
    for stream, name in ((post, "www.wirebench.test."), (get, "mail.wirebench.test.")):
        response = client.responses[stream]
        assert response["headers"][":status"] == "200"
        assert response["headers"]["content-type"] == "application/dns-message"
        reply = dns.message.from_wire(response["body"])
        assert reply.rcode() == dns.rcode.NOERROR and reply.answer[0].name.to_text() == name


def test_errors_are_http_statuses(client: H2Client) -> None:
    missing = client.request("GET", "/elsewhere")
    bad = client.request("GET", "/dns-query?dns=")
    method = client.request("PUT", "/dns-query", b"x")
    client.wait(missing, bad, method)
    assert [client.responses[s]["headers"][":status"] for s in (missing, bad, method)] == [
        "404", "400", "405"]
    after = client.request("POST", "/dns-query", query_wire("www.wirebench.test"))
    client.wait(after)  # the connection serves on after errors
    assert client.responses[after]["headers"][":status"] == "200"


def test_a_large_answer_waits_for_the_clients_flow_control_window(secure_lab) -> None:
    slow = H2Client(secure_lab.tls_port, window=1000)
    try:
        stream = slow.request("POST", "/dns-query", query_wire("big.wirebench.test"))
        slow.wait(stream)
        reply = dns.message.from_wire(slow.responses[stream]["body"])
        assert len(reply.answer[0]) == BIG_RECORDS  # 3 KB through a 1000-byte window
        assert int(slow.responses[stream]["headers"]["content-length"]) > 3000
    finally:
        slow.close()


def test_a_protocol_error_ends_only_that_connection(secure_lab) -> None:
    bad = H2Client(secure_lab.tls_port)
    bad.sock.sendall(b"\x00\x00\x04\x00\x00\x00\x00\x00\x00data")  # DATA on stream 0
    terminated = []
    while data := bad.sock.recv(65536):  # the server's GOAWAY, then its close
        terminated += [e for e in bad.link.receive_data(data)
                       if isinstance(e, h2.events.ConnectionTerminated)]
    bad.sock.close()
    assert [e.error_code for e in terminated] == [h2.errors.ErrorCodes.PROTOCOL_ERROR]
    good = H2Client(secure_lab.tls_port)
    try:
        stream = good.request("POST", "/dns-query", query_wire("www.wirebench.test"))
        good.wait(stream)
        assert good.responses[stream]["headers"][":status"] == "200"
    finally:
        good.close()
