"""One client connection of the CGI server: read each request with limits, then answer it
from a static file or by running a script and streaming its output (RFC 3875).

:class:`CgiRequestHandler` keeps ``http.server``'s connection loop (``handle()``) and its
socket plumbing, and replaces request parsing (:mod:`core.servers.http_head`) and every
response writer, so each limit, status and byte sent is under the server's control.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from core.servers.cgi.env import DATA_DIR_VARIABLE, SERVER_SOFTWARE, CgiRequest, build_environ
from core.servers.cgi.output import CgiHeaderReader, CgiOutputError, CgiResponse
from core.servers.cgi.pages import diagnosis_page, error_page, reason
from core.servers.cgi.paths import (
    PathRefused,
    ScriptTarget,
    StaticTarget,
    resolve_target,
    translate_path_info,
)
from core.servers.cgi.process import (
    CgiProcess,
    ScriptLaunchError,
    ScriptTimeout,
    script_command,
    spawn,
)
from core.servers.cgi.request import is_chunked, read_chunked_body
from core.servers.cgi.static import StaticFiles, http_date
from core.servers.http_head import (
    HttpError,
    RequestHead,
    RequestLimits,
    body_length,
    read_body,
    read_request_head,
)

if TYPE_CHECKING:
    from core.servers.cgi.server import CgiServer


@dataclass(frozen=True, slots=True)
class CgiLimits:
    """Time and size bounds of the server (all seconds / bytes)."""

    request: RequestLimits = RequestLimits()
    head_timeout: float = 10.0
    body_timeout: float = 10.0
    io_timeout: float = 30.0
    script_timeout: float = 30.0
    #: Apache's event MPM serves 400 (MaxRequestWorkers) by default and nginx 512
    #: (worker_connections); when full the connection waiting longest is closed
    max_connections: int = 512
    #: once 3/4 of the connections are taken, a head or body may take only this long, so
    #: a crowd of slow clients cannot hold every slot for the full timeout
    crowded_timeout: float = 2.0
    max_redirects: int = 5
    backlog: int = 1024


class LiveConnection:
    """A live client connection as the janitor and ``stop()`` see it."""

    __slots__ = ("sock", "deadline", "waiting_since", "late", "process", "thread")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        #: when the head or body being waited for must be complete (None: not waiting)
        self.deadline: float | None = None
        self.waiting_since = 0.0
        #: the janitor cut the read side because the head or body came too slowly
        self.late = False
        self.process: CgiProcess | None = None
        self.thread: threading.Thread | None = None


class CgiRequestHandler(StaticFiles, BaseHTTPRequestHandler):
    """One connection: reads requests until close, answers each from files or scripts."""

    server_version = SERVER_SOFTWARE
    sys_version = ""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def __init__(self, sock: socket.socket, addr: tuple, controller: CgiServer,
                 conn: LiveConnection) -> None:
        self.controller = controller
        self.conn = conn
        self.limits = controller.limits
        self.status_sent = 0
        self.head: RequestHead | None = None
        self.timeout = controller.limits.io_timeout
        super().__init__(sock, addr, None)  # type: ignore[arg-type]

    # -- reading ------------------------------------------------------------------------
    def handle_one_request(self) -> None:
        self.close_connection = True
        self.status_sent = 0
        self.command, self.request_version, self.requestline = "", "HTTP/1.1", ""
        self.conn.waiting_since = time.monotonic()
        self.conn.deadline = self.conn.waiting_since + self.limits.head_timeout
        try:
            head = read_request_head(self.rfile, self.limits.request)
        except HttpError as exc:
            self.conn.deadline = None
            if self.conn.late:
                self.controller.log(f"{self.client_address[0]}: request head not complete "
                                    f"within {self.limits.head_timeout:g} s (408)", "warning")
                self._reply_error(408, "The request took too long to arrive.")
            else:
                self._reply_error(exc.status, exc.detail)
            return
        except (TimeoutError, ConnectionError):
            return
        finally:
            self.conn.deadline = None
        if head is None:
            return
        if self.controller.stopping:
            return
        self.head = head
        self.controller.count(bytes_in=head.size)  # the head counts, not just a body
        self.command, self.path, self.request_version = head.method, head.target, head.version
        self.requestline = head.requestline
        self.close_connection = not head.keep_alive
        try:
            self._dispatch(head)
        except HttpError as exc:
            self.close_connection = True
            if not self.status_sent:
                self._reply_error(exc.status, exc.detail)
        self.wfile.flush()

    def _read_body(self, head: RequestHead) -> bytes | None:
        chunked = is_chunked(head)
        length = None if chunked else body_length(head, self.limits.request)
        if length is None and not chunked:
            return None
        if (head.header("Expect") or "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.conn.waiting_since = time.monotonic()
        self.conn.deadline = self.conn.waiting_since + self.limits.body_timeout
        try:
            if length is None:
                body = read_chunked_body(self.rfile, self.limits.request)
            else:
                body = read_body(self.rfile, length)
        finally:
            self.conn.deadline = None
        self.controller.count(bytes_in=len(body))
        return body

    # -- routing ------------------------------------------------------------------------
    def _dispatch(self, head: RequestHead) -> None:
        target = head.target
        if not target.startswith("/"):
            if target.lower().startswith(("http://", "https://")):
                target = urlsplit(target)._replace(scheme="", netloc="").geturl() or "/"
            else:
                raise HttpError(400, "request target must start with '/'")
        path, _, query = target.partition("?")
        path = path.split("#", 1)[0]
        body = self._read_body(head)
        method = head.method
        for _ in range(self.limits.max_redirects + 1):
            try:
                resolved = resolve_target(path, self.controller.real_root,
                                          self.controller.real_cgi_dir)
            except PathRefused as exc:
                self._log_refusal(path, exc)
                # the request was read whole: the connection stays usable
                self._reply(exc.status, error_page(exc.status, _public_reason(exc.status)),
                            [], "text/html; charset=utf-8")
                return
            if isinstance(resolved, StaticTarget):
                self._serve_static(resolved, method, query)
                return
            location = self._run_script(resolved, method, target, query, body)
            if location is None:
                return
            # RFC 3875 6.2.2 local redirect: answer as if the client asked for it, as a GET
            path, _, query = location.partition("?")
            target, method, body = location, "GET", None
        self._script_failed(path, "too many local redirects",
                            f"more than {self.limits.max_redirects} Location: /path hops")

    def _log_refusal(self, path: str, exc: PathRefused) -> None:
        self.controller.log(f"{self.client_address[0]} refused {path!r}: {exc.reason}",
                            "warning")

    # -- scripts --------------------------------------------------------------------------
    def _run_script(self, target: ScriptTarget, method: str, request_uri: str, query: str,
                    body: bytes | None) -> str | None:
        """Run the script and stream its answer; the local redirect path if it asks one."""
        controller = self.controller
        head = self.head
        assert head is not None
        headers = list(head.headers)
        content_type = head.header("Content-Type") if body is not None else None
        env = build_environ(CgiRequest(
            method=method, protocol=head.version, script_name=target.script_name,
            path_info=target.path_info,
            path_translated=translate_path_info(target.path_info, controller.real_root),
            query_string=query, request_uri=request_uri, headers=headers,
            remote_addr=self.client_address[0], remote_port=self.client_address[1],
            server_host=controller.host or "localhost", server_port=controller.port,
            script_filename=str(target.path), document_root=str(controller.real_root),
            body_length=len(body) if body is not None else None, content_type=content_type,
        ), extra={DATA_DIR_VARIABLE: controller.script_data_dir})
        name = target.script_name
        deadline = time.monotonic() + self.limits.script_timeout
        on_stderr = lambda line: controller.log(f"{name} stderr: {line}", "warning")  # noqa: E731
        try:
            command = script_command(target.path, env["PATH"])
            # a Python script forks from the pre-started zygote when it runs, else starts
            process = (controller.zygote_spawn(target.path, env, body or b"", deadline,
                                               on_stderr)
                       or spawn(command, env, target.path.parent, body or b"", deadline,
                                on_stderr, threaded=controller.threaded_pipes))
        except ScriptLaunchError as exc:
            self._script_failed(name, exc.problem, exc.diagnosis)
            return None
        self.conn.process = process
        try:
            return self._relay(process, name, method)
        finally:
            self.conn.process = None
            process.close()
            if process.escapees:
                controller.log(f"{name}: killed {process.escapees} process(es) it started "
                               "that escaped its session (setsid) and outlived it", "warning")

    def _relay(self, process: CgiProcess, name: str, method: str) -> str | None:
        reader = CgiHeaderReader()
        response: CgiResponse | None = None
        try:
            while response is None:
                chunk = process.read()
                response = reader.feed(chunk) if chunk else reader.finish()
        except ScriptTimeout:
            self._timed_out(name)
            return None
        except CgiOutputError as exc:
            code = process.finish()
            self._output_failed(name, exc, process, code)
            return None
        if response.is_local_redirect:
            process.finish()
            return response.location
        self._stream(process, response, name, method)
        return None

    def _stream(self, process: CgiProcess, response: CgiResponse, name: str,
                method: str) -> None:
        headers = list(response.headers)
        declared = response.content_length
        chunked = False
        if declared is not None:
            headers.append(("Content-Length", str(declared)))
        elif self.request_version == "HTTP/1.1" and response.status not in (204, 304):
            headers.append(("Transfer-Encoding", "chunked"))
            chunked = method != "HEAD"
        else:
            self.close_connection = True
        self._start_response(response.status, headers, response.reason)
        body_bytes = 0
        pending = response.body_start
        try:
            while True:
                if pending and method != "HEAD":
                    if declared is not None:
                        pending = pending[:max(0, declared - body_bytes)]
                    if pending:
                        self._write_body(pending, chunked)
                        body_bytes += len(pending)
                pending = process.read()
                if not pending:
                    break
        except ScriptTimeout:
            self.close_connection = True  # the status is gone; a cut stream says "failed"
            self.controller.log(f"{name}: killed after {self.limits.script_timeout:g} s "
                                "while sending its page", "error")
            self._access(body_bytes)
            return
        if chunked:
            self._write(b"0\r\n\r\n")
        if declared is not None and body_bytes < declared and method != "HEAD":
            self.close_connection = True
            self.controller.log(f"{name}: sent {body_bytes} of the {declared} bytes its "
                                "Content-Length announced", "warning")
        code = process.finish()
        if code:
            self.controller.log(f"{name} exited with status {code}", "warning")
        self._access(body_bytes)

    def _write_body(self, data: bytes, chunked: bool) -> None:
        if chunked:
            self._write(b"%x\r\n" % len(data) + data + b"\r\n")
        else:
            self._write(data)

    def _timed_out(self, name: str) -> None:
        seconds = f"{self.limits.script_timeout:g}"
        self.controller.log(f"{name}: no answer within {seconds} s; killed (504)", "error")
        self.close_connection = True
        self._reply(504, error_page(504, f"The script {name} did not answer within "
                                         f"{seconds} s and was stopped."),
                    [], "text/html; charset=utf-8")

    def _output_failed(self, name: str, exc: CgiOutputError, process: CgiProcess,
                       code: int) -> None:
        tail = list(process.stderr_tail)
        problem, diagnosis = exc.problem, exc.diagnosis
        traceback_at = next((i for i, line in enumerate(tail)
                             if line.startswith("Traceback (most recent call last)")), None)
        if traceback_at is not None or (code and tail and "Error" in tail[-1]):
            problem = "the script raised an exception"
            where = next((line.strip() for line in reversed(tail)
                          if line.strip().startswith("File ")), "")
            diagnosis = (f"{tail[-1].strip()}" + (f" ({where})" if where else "")
                         + ". Run the script in a console to see the whole traceback.")
        elif code:
            diagnosis += f" (it exited with status {code})"
        self._script_failed(name, problem, diagnosis, tail[-8:])

    def _script_failed(self, name: str, problem: str, diagnosis: str,
                       tail: list[str] | None = None) -> None:
        self.controller.log(f"{name}: 500: {problem}: {diagnosis}", "error")
        self._reply(500, diagnosis_page(name, problem, diagnosis, tail), [],
                    "text/html; charset=utf-8")

    # -- writing ------------------------------------------------------------------------
    def _start_response(self, status: int, headers: list[tuple[str, str]],
                        phrase: str | None = None, body: bytes = b"") -> None:
        lines = [f"{self.request_version if self.request_version == 'HTTP/1.0' else 'HTTP/1.1'}"
                 f" {status} {phrase or reason(status)}",
                 f"Server: {SERVER_SOFTWARE}",
                 f"Date: {http_date(int(time.time()))}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        self.status_sent = status
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self._write(data + body)

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]],
               content_type: str | None, head_only: bool = False) -> None:
        extra = list(headers)
        if content_type:
            extra.append(("Content-Type", content_type))
        if status != 304:
            extra.append(("Content-Length", str(len(body))))
        send_body = not head_only and self.command != "HEAD" and status != 304
        self._start_response(status, extra, body=body if send_body else b"")
        self._access(len(body) if send_body else 0)

    def _reply_error(self, status: int, detail: str) -> None:
        self.close_connection = True
        self._reply(status, error_page(status, detail), [], "text/html; charset=utf-8")

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self._sent(len(data))

    def _sent(self, size: int) -> None:
        self.controller.count(bytes_out=size)

    def _access(self, size: int) -> None:
        self.controller.count(requests=1)
        if self.controller.access_log:
            self.controller.log(f'{self.client_address[0]} "{self.requestline}" '
                                f"{self.status_sent} {size}")

    # BaseHTTPRequestHandler would print to stderr; everything goes to the server log
    def log_message(self, format: str, *args: object) -> None:
        self.controller.log(format % args)


def _public_reason(status: int) -> str:
    # the client learns the status only; the log has the precise reason
    return {400: "The request path is malformed.",
            403: "You may not access this path.",
            404: "Nothing is found at this path."}.get(status, reason(status))
