"""Socket console sessions as a script: socket (+ ssl) only, the bytes exact.

Step vocabulary (``Recording("socket")``):

* ``connect``  family ("tcp", "udp", "unix", "unix-dgram"), host, port, path, ipv
  ("auto", "4", "6"), tls, verify, ca_file, server_hostname, timeout
* ``listen``   family, host, port, path, tls, cert_file, key_file
* ``accept``   (wait for one client)
* ``option``   level ("SOL_SOCKET", "IPPROTO_TCP"), name ("SO_KEEPALIVE" …), value
* ``send``     data (bytes), to (host, port) for datagrams
* ``shutdown`` how ("SHUT_RD", "SHUT_WR", "SHUT_RDWR")
* ``close``
"""

from __future__ import annotations

from core.codegen.pyliteral import bytes_literal, header, tls_context_lines
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
        if step.op == "connect":
            fam = a.get("family", "tcp")
            datagram = fam in ("udp", "unix-dgram")
            timeout = a.get("timeout", 10)
            if fam == "tcp":
                addr = f"({a.get('host', '127.0.0.1')!r}, {int(a.get('port', 0))})"
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
                    body += [f"sock = context.wrap_socket(sock, server_hostname={sni!r})",
                             "print('TLS:', sock.version(), sock.cipher()[0], file=sys.stderr)"]
            elif fam == "udp":
                fam_const = _family(str(a.get("ipv", "auto"))) or "socket.AF_INET"
                body += [f"sock = socket.socket({fam_const}, socket.SOCK_DGRAM)",
                         f"peer = ({a.get('host', '127.0.0.1')!r}, {int(a.get('port', 0))})"]
            else:
                kind = "SOCK_DGRAM" if fam == "unix-dgram" else "SOCK_STREAM"
                body += [f"sock = socket.socket(socket.AF_UNIX, socket.{kind})",
                         f"sock.settimeout({timeout})"]
                if fam == "unix-dgram":
                    body += ["# a datagram UNIX client needs a name of its own to get replies",
                             "import os, tempfile",
                             "sock.bind(os.path.join(tempfile.mkdtemp(), 'client.sock'))",
                             f"peer = {a.get('path')!r}"]
                else:
                    body.append(f"sock.connect({a.get('path')!r})")
            body.append("received = bytearray()")
        elif step.op == "listen":
            listener = True
            fam = a.get("family", "tcp")
            if fam == "unix":
                body += ["server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
                         f"server.bind({a.get('path')!r})"]
            else:
                body += ["server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
                         "# SO_REUSEADDR: restart at once on the same port after a close",
                         "server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
                         f"server.bind(({a.get('host', '127.0.0.1')!r}, {int(a.get('port', 0))}))"]
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
                target = f"({to[0]!r}, {int(to[1])})" if to else "peer"
                body += [f"sock.sendto({bytes_literal(data)}, {target})",
                         "for data, sender in read_datagrams(sock):",
                         "    print('from', sender, file=sys.stderr)",
                         "    received += data"]
            else:
                body += [f"sock.sendall({bytes_literal(data)})",
                         "received += read_for(sock)"]
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
