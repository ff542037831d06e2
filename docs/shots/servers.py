"""docs/servers.png: the Servers tab with an echo server under load (live plot and log)."""

import os
import socket
import threading
import time

from common import capture, launch, pump  # type: ignore[import-not-found]

app = launch()
app.select_tab(5)
tab = app.tab("servers")
tab.select("echo-tcp")
tab.set_fields(port=0, mode="select")
tab.start_selected()
pump(app.root, 15, lambda: tab.current.running)
server = tab.current.controller
stop = threading.Event()


def client(index: int) -> None:
    # clients join one by one and send bursts of 10-100 KiB, so the plot has shape
    time.sleep(index * 0.6)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        payload = os.urandom(1024 * (10 + 9 * (index % 11)))
        while not stop.is_set():
            sock.sendall(payload)
            got = 0
            while got < len(payload):
                got += len(sock.recv(1 << 20))
            time.sleep(0.02 * (index % 5))


threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(24)]
for t in threads:
    t.start()
pump(app.root, 21)
tab.pages.select(1)  # the Clients page: every peer with its connection state
pump(app.root, 1.2)
print(capture(app.root, "servers"))
stop.set()
for t in threads:
    t.join(5)
app.close()
