"""docs/socket_console.png: the Socket tab mid-session, hex+text view, both directions.

A real listener (a SocketSession with auto-reply rules) answers the tab's TCP client.
Optional arguments: geometry and output name (e.g. 1024x700+0+0 socket_console_small).
"""

import sys

from common import ROOT, capture, connect_socket_tab, launch, pump  # type: ignore[import-not-found]

sys.path.insert(0, str(ROOT))
from core.sockets import AutoReply, LocalAddress, SocketConfig, SocketSession  # noqa: E402
from core.worker import drain  # noqa: E402

# 1280x772 + the menu bar fills the 800-line screen
geometry = sys.argv[1] if len(sys.argv) > 1 else "1280x772+0+0"
name = sys.argv[2] if len(sys.argv) > 2 else "socket_console"

peer = SocketSession()
peer.set_auto_replies([AutoReply.create("HELO", "250 hello, pleased to meet you\\r\\n"),
                       AutoReply.create("PING", "PONG\\r\\n"),
                       AutoReply.create("\\x01\\x02", "\\x06\\x00\\x2a\\xff\\x10hex reply")])
peer.listen(SocketConfig(host="127.0.0.1", port=0))
address = ""
while not address:
    address = next((e.address for e in drain(peer.outbox) if isinstance(e, LocalAddress)), "")

app = launch(geometry)
tab = connect_socket_tab(app, int(address.rsplit(":", 1)[1]))
for text, fmt in (("HELO wirebench.local", "text"), ("PING", "text"),
                  ("01 02 03 04 ca fe ba be", "hex")):
    tab.format_var.set(fmt)
    tab.input.insert(0, text)
    tab.send_button.invoke()
    pump(app.root, 0.4)
tab.format_var.set("text")
tab._redraw()
tab.input.insert(0, "QUIT\\r\\n")
pump(app.root, 0.5)
print(capture(app.root, name))
app.close()
peer.close()
