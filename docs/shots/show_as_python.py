"""docs/show_as_python.png: the Socket tab after a short session, with its script window.

The tab talks to a real echo server (the lab's threaded TCP echo on a free port); the
"Python" button opens the live script beside it.
"""

import subprocess
import sys

from common import ROOT, launch, pump  # type: ignore[import-not-found]

sys.path.insert(0, str(ROOT))
from core.servers.echo import make_echo_server  # noqa: E402

echo = make_echo_server("tcp", "threaded", "127.0.0.1", 0)
echo.start()

app = launch("1280x772+0+0")
app.select_tab(0)
tab = app.tab("socket")
tab.view_var.set("both")
tab.mode_var.set("TCP client")
tab._on_mode_changed()
tab.host_var.set("127.0.0.1")
tab.port_var.set(str(echo.port))
tab.primary_button.invoke()
pump(app.root, 3, lambda: tab.session.state.name == "Established")
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
