"""docs/show_as_python.png: the Socket tab after a short session, with its script window.

The tab talks to a real echo server (the lab's threaded TCP echo on a free port); the
"Python" button opens the live script beside it.
"""

import subprocess
import sys

from common import ROOT, connect_socket_tab, launch, pump  # type: ignore[import-not-found]

sys.path.insert(0, str(ROOT))
from core.servers.echo.server import make_echo_server  # noqa: E402

echo = make_echo_server("tcp", "threaded", "127.0.0.1", 0)
echo.start()

app = launch("1280x772+0+0")
tab = connect_socket_tab(app, echo.port)
for text, fmt in (("GET / HTTP/1.0\\r\\n\\r\\n", "text"), ("00 ff 0d 0a", "hex")):
    tab.format_var.set(fmt)
    tab.input.insert(0, text)
    tab.send_button.invoke()
    pump(app.root, 0.4)
tab.session.shutdown("write")
pump(app.root, 0.5)
tab.show_python()
window = tab.session.recording._window
window.geometry("700x560+560+200")
pump(app.root, 1.0)
out = ROOT / "docs" / "show_as_python.png"
subprocess.run(["import", "-window", "root", "-crop", "1280x800+0+0", "+repage", str(out)],
               check=True)
print(out)
window.destroy()
app.close()
echo.stop()
