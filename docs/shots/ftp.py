"""docs/ftp.png: the FTP tab mid-transfer against a rate-limited lab server."""

import tempfile
from pathlib import Path

from common import capture, launch, pump  # type: ignore[import-not-found]

from core.servers.ftp_lab import LAB_PASSWORD, LAB_USER, FtpLabServer

server = FtpLabServer(port=0, tls="none", large_size=64 * 1024 * 1024,
                      rate_limit=6 * 1024 * 1024)
server.start()
(server.root / "upload" / "photos").mkdir()
(server.root / "upload" / "report 2026.pdf").write_bytes(b"%PDF" + bytes(300_000))
local = Path(tempfile.mkdtemp(prefix="wb-shot-local-"))
(local / "notes.txt").write_text("local notes\n")
(local / "site").mkdir()
app = launch()
try:
    app.select_tab(3)
    tab = app.tab("ftp")
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(server.port))
    tab.user_var.set(LAB_USER)
    tab.password_var.set(LAB_PASSWORD)
    tab.anonymous_var.set(False)
    tab.tls_var.set("none")
    tab.go_local(local)
    tab.connect_button.invoke()
    pump(app.root, 10, until=lambda: "large.bin" in tab.remote.names())
    tab.remote.select_key("docs")
    tab.remote.tree.selection_add(tab.remote.tree.focus())
    for name in ("large.bin", "readme.txt", "docs"):
        tab.remote.tree.selection_add(next(i for i, r in tab.remote.rows.items()
                                           if r.key == name))
    tab.download_selected()

    def running_enough() -> bool:
        items = tab.queue.snapshot() if tab.queue else []
        return any(i.name == "large.bin" and i.fraction > 0.4 for i in items)

    pump(app.root, 30, until=running_enough)
    tab.remote.tree.selection_set(next(i for i, r in tab.remote.rows.items()
                                       if r.key == "large.bin"))
    print(capture(app.root, "ftp"))
finally:
    app.close()
    server.stop()
