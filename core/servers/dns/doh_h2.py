"""DNS over HTTPS on HTTP/2 (RFC 8484 recommends HTTP/2 as the minimum) with the ``h2`` library.

A connection whose TLS handshake picked ALPN ``h2`` comes here: ``h2`` keeps the frames,
streams, HPACK and flow control; this module only maps each finished request stream to
one DNS answer (:func:`core.servers.dns.doh.doh_response`) and sends it back, in frames
no larger than the peer allows and no faster than its flow-control window opens.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from core.servers.dns.doh import MAX_MESSAGE, Answer, DohResponse, counted, doh_response

MAX_STREAMS = 32  # concurrent requests one client may have open
MAX_HEADER_LIST = 16 * 1024


@dataclass
class _Request:
    headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)
    too_big: bool = False


def serve_h2(conn: socket.socket, answer: Answer, keep_going: Callable[[], bool],
             count: Callable[..., None]) -> None:
    """Serve one HTTP/2 connection (TLS done, ALPN ``h2``) until it closes."""
    link = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=False, header_encoding="utf-8", validate_inbound_headers=True))
    link.local_settings = h2.settings.Settings(client=False, initial_values={
        h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS,
        h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST,
        h2.settings.SettingCodes.ENABLE_PUSH: 0})
    link.initiate_connection()
    conn.sendall(link.data_to_send())
    answer = counted(answer, count)
    requests: dict[int, _Request] = {}
    unsent: dict[int, memoryview] = {}  # response bodies waiting for window
    while keep_going():
        data = conn.recv(65536)
        if not data:
            return
        try:
            events = link.receive_data(data)
        except h2.exceptions.ProtocolError:
            conn.sendall(link.data_to_send())  # h2 queued a GOAWAY naming the error
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                requests[event.stream_id] = _Request(dict(event.headers))
            elif isinstance(event, h2.events.DataReceived):
                request = requests.get(event.stream_id)
                if request is not None:
                    request.too_big |= len(request.body) + len(event.data) > MAX_MESSAGE
                    if not request.too_big:
                        request.body += event.data
                link.acknowledge_received_data(event.flow_controlled_length,
                                               event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                request = requests.pop(event.stream_id, None)
                if request is not None:
                    _respond(link, event.stream_id, request, answer, unsent)
            elif isinstance(event, h2.events.StreamReset):
                requests.pop(event.stream_id, None)
                unsent.pop(event.stream_id, None)
            elif isinstance(event, h2.events.ConnectionTerminated):
                conn.sendall(link.data_to_send())
                return
        _send_what_fits(link, unsent)
        conn.sendall(link.data_to_send())


def _respond(link: h2.connection.H2Connection, stream_id: int, request: _Request,
             answer: Answer, unsent: dict[int, memoryview]) -> None:
    headers = request.headers
    if request.too_big:
        response = DohResponse(413, b"a DNS message is at most 65535 bytes\n")
    else:
        response = doh_response(headers.get(":method", ""), headers.get(":path", ""),
                                bytes(request.body), answer)
    link.send_headers(stream_id, [
        (":status", str(response.status)), ("content-type", response.content_type),
        ("content-length", str(len(response.body))), ("cache-control", "max-age=0")])
    unsent[stream_id] = memoryview(response.body)


def _send_what_fits(link: h2.connection.H2Connection, unsent: dict[int, memoryview]) -> None:
    """Send queued bodies in frames the peer accepts; the rest waits for WINDOW_UPDATE."""
    for stream_id, body in list(unsent.items()):
        if not body:
            link.send_data(stream_id, b"", end_stream=True)
        while body:
            room = min(link.local_flow_control_window(stream_id),
                       link.max_outbound_frame_size, len(body))
            if room <= 0:
                break
            link.send_data(stream_id, body[:room], end_stream=room == len(body))
            body = body[room:]
        if body:
            unsent[stream_id] = body
        else:
            del unsent[stream_id]
