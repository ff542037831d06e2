"""The origin document's echo servers (sections 3.1, 3.3, 4.2.1-4.2.3), in Python 3.

``wirebench serve echo --print-code`` prints one; the Servers tab shows it.
Steps (``Recording("echo-server")``): one ``server`` step with proto ("tcp", "udp",
"unix"), mode ("threaded", "select", "fork"), fork_style ("simple", "double"), host,
port, path.
"""

from __future__ import annotations

from core.codegen.pyliteral import header, literal
from core.recording import Recording

_THREADED = '''

def handler(client, address):
    """Echo until the client closes (section 4.2.1: one thread per connection)."""
    with client:
        while data := client.recv(65536):
            client.sendall(data)


def main():
    server = socket.create_server(ADDRESS, backlog=128)
    print("echo (threaded) listening on", server.getsockname(), flush=True)
    while True:
        client, address = server.accept()
        threading.Thread(target=handler, args=(client, address), daemon=True).start()
'''

_SELECT = '''

def main():
    """Section 4.2.2: one thread, non-blocking sockets, a selector instead of select()."""
    server = socket.create_server(ADDRESS, backlog=128)
    server.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ)
    pending = {}  # client -> bytes still to echo
    print("echo (select) listening on", server.getsockname(), flush=True)
    while True:
        for key, events in selector.select():
            sock = key.fileobj
            if sock is server:
                client, _ = server.accept()
                client.setblocking(False)
                pending[client] = b""
                selector.register(client, selectors.EVENT_READ)
                continue
            if events & selectors.EVENT_READ:
                try:
                    data = sock.recv(65536)
                except ConnectionError:
                    data = b""
                if not data:
                    selector.unregister(sock)
                    pending.pop(sock, None)
                    sock.close()
                    continue
                pending[sock] += data
            if pending.get(sock):
                try:
                    sent = sock.send(pending[sock])
                except BlockingIOError:
                    sent = 0
                pending[sock] = pending[sock][sent:]
            # watch for writability only while output waits, so idle clients cost nothing
            want = selectors.EVENT_READ | (selectors.EVENT_WRITE if pending[sock] else 0)
            selector.modify(sock, want)
'''

_FORK = '''

children = []


def fireman(pids):
    """Reap every child that has exited, so none stays a zombie (section 4.2.3)."""
    while pids:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # nothing left to wait for
            pids.clear()
            break
        if not pid:
            break
        if pid in pids:
            pids.remove(pid)


def handler(client):
    while data := client.recv(65536):
        client.sendall(data)


def main():
    server = socket.create_server(ADDRESS, backlog=128)
    print("echo (fork, FORK_STYLE) listening on", server.getsockname(), flush=True)
    while True:
        client, address = server.accept()
        fireman(children)
        pid = os.fork()
        if pid:  # parent: keep listening
            client.close()
            children.append(pid)
            continue
        server.close()  # child
        if FORK_STYLE == "double" and os.fork():
            os._exit(0)  # first child exits at once; the grandchild is adopted by init
        handler(client)
        os._exit(0)
'''

_UDP = '''

def main():
    """Section 3.3: bind, then answer each datagram to the address it came from."""
    sock = socket.socket(socket.AF_INET6 if ":" in ADDRESS[0] else socket.AF_INET,
                         socket.SOCK_DGRAM)
    sock.bind(ADDRESS)
    print("echo (udp) listening on", sock.getsockname(), flush=True)
    while True:
        data, address = sock.recvfrom(65535)
        sock.sendto(data, address)
'''

_UNIX = '''

def main():
    """A UNIX-domain stream echo server; a stale socket file is replaced."""
    if os.path.exists(PATH):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(PATH)
            sys.exit(f"{PATH} is in use by a live server")
        except ConnectionRefusedError:
            os.unlink(PATH)  # stale: nobody listens
        finally:
            probe.close()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(PATH)
    server.listen(128)
    print("echo (unix) listening on", PATH, flush=True)
    while True:
        client, _ = server.accept()
        threading.Thread(target=handler, args=(client,), daemon=True).start()


def handler(client):
    with client:
        while data := client.recv(65536):
            client.sendall(data)
'''

_MAIN = '''

if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
'''


def render(recording: Recording) -> str:
    steps = [s for s in recording.steps() if s.op == "server"]
    a = steps[-1].args if steps else {"proto": "tcp", "mode": "threaded"}
    proto, mode = a.get("proto", "tcp"), a.get("mode", "threaded")
    host, port = a.get("host", "127.0.0.1"), int(a.get("port", 7000))
    imports = ["import socket", "import sys"]
    if proto == "udp":
        body, title = _UDP, "UDP echo server"
    elif proto == "unix":
        body, title = _UNIX, "UNIX-domain echo server"
        imports += ["import os", "import threading"]
    elif mode == "select":
        body, title = _SELECT, "TCP echo server, select design"
        imports.append("import selectors")
    elif mode == "fork":
        style = "double" if a.get("fork_style") == "double" else "simple"
        body = _FORK.replace("FORK_STYLE) listening", f"{style}) listening")
        title = f"TCP echo server, fork design ({style} fork)"
        imports.append("import os")
    else:
        body, title = _THREADED, "TCP echo server, threaded design"
        imports.append("import threading")
    consts = f"\nADDRESS = ({literal(str(host))}, {port})\n"
    if proto == "unix":
        consts = f"\nPATH = {literal(str(a.get('path', '/tmp/wirebench-echo.sock')))}\n"
    if mode == "fork" and proto == "tcp":
        consts += f"FORK_STYLE = {literal(str(a.get('fork_style', 'simple')))}\n"
    return header(title + ".", imports) + consts + body + _MAIN
