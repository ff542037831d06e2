"""Socket console sessions as a script: socket (+ ssl) only, the bytes exact.

Step vocabulary (``Recording("socket")``):

* ``connect``  family ("tcp", "udp", "unix", "unix-dgram"), host, port, path, ipv
  ("auto", "4", "6"), tls, verify, ca_file, server_hostname, timeout
* ``listen``   family, host, port, path, tls, cert_file, key_file
* ``accept``   (wait for one client)
* ``option``   level ("SOL_SOCKET", "IPPROTO_TCP"), name ("SO_KEEPALIVE" …), value
* ``send``     data (bytes), to (host, port) for datagrams
* ``send_file`` path (the file's bytes, sent as they are read)
* ``repeat``   payload (the first one), count, interval_ms, macros (payloads change)
* ``drop`` peer · ``auto_replies`` count (left out, with a comment)
* ``shutdown`` how ("SHUT_RD", "SHUT_WR", "SHUT_RDWR")
* ``close``
"""

from __future__ import annotations

from core.codegen.pyliteral import bytes_literal, comment, header, literal, tls_context_lines
from core.recording import Recording

_STREAM_HELPER = '''

def read_for(sock, quiet=0.5):
    """Everything that arrives until the peer is quiet for `quiet` seconds or closes."""
    data = bytearray()
    sock.settimeout(quiet)
    while True:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, socket.timeout):
            return bytes(data)
        if not chunk:
            return bytes(data)
        data += chunk
'''

_DATAGRAM_HELPER = '''

def read_datagrams(sock, quiet=0.5):
    """Datagrams (with their sender) until none arrives for `quiet` seconds."""
    got = []
    sock.settimeout(quiet)
    while True:
        try:
            got.append(sock.recvfrom(65535))
        except (TimeoutError, socket.timeout):
            return got
'''


def _family(ipv: str) -> str:
    return {"4": "socket.AF_INET", "6": "socket.AF_INET6"}.get(ipv, "")


def render(recording: Recording) -> str:
    steps = recording.steps()
    body: list[str] = []
    imports = ["import socket", "import sys"]
    datagram = False
    listener = False
    for step in steps:
        a = step.args
        host = literal(str(a.get("host", "127.0.0.1")))
        if step.op == "connect":
            fam = a.get("family", "tcp")
            datagram = fam in ("udp", "unix-dgram")
            timeout = a.get("timeout", 10)
            if fam == "tcp":
                addr = f"({host}, {int(a.get('port', 0))})"
                if _family(str(a.get("ipv", "auto"))):
                    body += [f"sock = socket.socket({_family(str(a['ipv']))}, socket.SOCK_STREAM)",
                             f"sock.settimeout({timeout})", f"sock.connect({addr})"]
                else:
                    body += ["# create_connection tries every address the name resolves to",
                             f"sock = socket.create_connection({addr}, timeout={timeout})"]
                if a.get("tls"):
                    imports.append("import ssl")
                    body += tls_context_lines(a.get("ca_file"), a.get("verify", True))
                    sni = a.get("server_hostname") or a.get("host")
                    sni = literal(str(sni))
                    body += [f"sock = context.wrap_socket(sock, server_hostname={sni})",
                             "print('TLS:', sock.version(), sock.cipher()[0], file=sys.stderr)"]
            elif fam == "udp":
                fam_const = _family(str(a.get("ipv", "auto"))) or "socket.AF_INET"
                body += [f"sock = socket.socket({fam_const}, socket.SOCK_DGRAM)",
                         f"peer = ({host}, {int(a.get('port', 0))})"]
            else:
                kind = "SOCK_DGRAM" if fam == "unix-dgram" else "SOCK_STREAM"
                body += [f"sock = socket.socket(socket.AF_UNIX, socket.{kind})",
                         f"sock.settimeout({timeout})"]
                if fam == "unix-dgram":
                    body += ["# a datagram UNIX client needs a name of its own to get replies",
                             "import os, tempfile",
                             "sock.bind(os.path.join(tempfile.mkdtemp(), 'client.sock'))",
                             f"peer = {literal(str(a.get('path')))}"]
                else:
                    body.append(f"sock.connect({literal(str(a.get('path')))})")
            body.append("received = bytearray()")
        elif step.op == "listen":
            listener = True
            fam = a.get("family", "tcp")
            if fam == "unix":
                body += ["server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
                         f"server.bind({literal(str(a.get('path')))})"]
            else:
                body += ["server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
                         "# SO_REUSEADDR: restart at once on the same port after a close",
                         "server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
                         f"server.bind(({host}, {int(a.get('port', 0))}))"]
            body += ["server.listen(5)",
                     "print('listening on', server.getsockname(), file=sys.stderr, flush=True)",
                     "received = bytearray()"]
        elif step.op == "accept":
            body += ["sock, address = server.accept()  # blocks until a client connects",
                     "print('connection from', address, file=sys.stderr)"]
        elif step.op == "option":
            body.append(f"sock.setsockopt(socket.{a['level']}, socket.{a['name']}, "
                        f"{int(a['value'])})")
        elif step.op == "send":
            data = bytes(a.get("data", b""))
            if datagram:
                to = a.get("to")
                target = f"({literal(str(to[0]))}, {int(to[1])})" if to else "peer"
                body += [f"sock.sendto({bytes_literal(data)}, {target})",
                         "for data, sender in read_datagrams(sock):",
                         "    print('from', sender, file=sys.stderr)",
                         "    received += data"]
            else:
                body += [f"sock.sendall({bytes_literal(data)})",
                         "received += read_for(sock)"]
        elif step.op == "send_file":
            body += [f"with open({literal(str(a['path']))}, 'rb') as fh:",
                     "    sock.sendfile(fh)  # the file's bytes, as the session sent them",
                     "received += read_for(sock)"]
        elif step.op == "repeat":
            count, interval = int(a.get("count", 1)), int(a.get("interval_ms", 0)) / 1000
            if a.get("macros"):
                body.append(comment(f"repeat x{count}: left out, its payload used the tab's "
                                    "{{macros}}, which change with every send"))
            elif not datagram:
                imports.append("import time")
                body += [f"for _ in range({count}):  # the tab's Repeat",
                         f"    sock.sendall({bytes_literal(bytes(a.get('payload', b'')))})",
                         f"    time.sleep({interval})",
                         "received += read_for(sock)"]
            else:
                body.append(comment(f"repeat x{count}: left out for datagram sockets"))
        elif step.op == "drop":
            body.append(comment(f"the session dropped peer {a.get('peer')}: one client here"))
        elif step.op == "auto_replies":
            body.append(comment(f"{a.get('count')} auto-reply rules were set: left out, "
                                "this script only replays what you sent"))
        elif step.op == "shutdown":
            how = a.get("how", "SHUT_WR")
            why = {"SHUT_WR": "# SHUT_WR sends FIN: the peer sees end of data but can still "
                              "answer",
                   "SHUT_RD": "# SHUT_RD: we will read no more; sending still works",
                   "SHUT_RDWR": "# SHUT_RDWR: both directions end, before close()"}.get(how, "")
            if why:
                body.append(why)
            body.append(f"sock.shutdown(socket.{how})")
            if how == "SHUT_WR":
                body.append("received += read_for(sock, quiet=2.0)  # until the peer closes")
        elif step.op == "close":
            body.append("sock.close()")
            if listener:
                body.append("server.close()")
    if not steps:
        body.append("# Nothing recorded yet: connect, send and close in the tab.")
        return header("Socket console session.", ["import socket"]) + "\n" + "\n".join(body) + "\n"
    helper = _DATAGRAM_HELPER if datagram else _STREAM_HELPER
    out = header("Socket console session.", imports) + helper + "\n\n"
    out += "\n".join(body) + "\n"
    out += "\n# what the peer sent back, exactly (a bytes literal)\n"
    out += "print(repr(bytes(received)))\n"
    return out
