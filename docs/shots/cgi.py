"""docs/cgi.png: the Servers tab running the CGI web server on the sample site, with the
access log, a traceback diagnosed from the document's 5.1.3 list and a refused traversal."""

import shutil
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.error import HTTPError

from common import capture, launch, pump  # type: ignore[import-not-found]

from core.paths import asset

# a copy of the sample site, so the broken script below never lands in the real assets
site = Path(tempfile.mkdtemp(prefix="wb-shot-site-"))
shutil.copytree(asset("www"), site / "www")
shutil.copytree(asset("cgi-bin"), site / "cgi-bin")
(site / "cgi-bin" / "broken.py").write_text("print('Content-Type: text/html')\nprint(1 / 0)\n")

app = launch()
app.select_tab(5)
tab = app.tab("servers")
tab.select("cgi")
tab.set_fields(host="127.0.0.1", port=0, root=str(site / "www"),
               cgi_dir=str(site / "cgi-bin"))
tab.start_selected()
pump(app.root, 15, lambda: tab.current.running)
server = tab.current.controller
stop = threading.Event()


def get(path: str, data: bytes | None = None) -> None:
    try:
        with urllib.request.urlopen(server.url(path), data=data, timeout=10) as reply:
            reply.read()
    except HTTPError as exc:
        exc.read()


def browse() -> None:
    # a visitor walking the sample site, so the plot and the log have something to show
    pages = ["/", "/cgi-bin/hello.py", "/cgi-bin/hello_centered.py", "/comment.html",
             "/cgi-bin/hello.sh", "/personal.html", "/cgi-bin/env.py/extra?a=1"]
    i = 0
    while not stop.is_set():
        get(pages[i % len(pages)])
        if i % 9 == 4:
            get("/cgi-bin/comment.py", b"yourname=Ada&comment=Hello+from+the+form")
        i += 1
        time.sleep(0.05)


walker = threading.Thread(target=browse, daemon=True)
walker.start()
pump(app.root, 12)
stop.set()
walker.join(5)
get("/cgi-bin/%2e%2e/%2e%2e/etc/passwd")  # refused, and logged as such
get("/cgi-bin/broken.py")  # 500 with the traceback diagnosis
pump(app.root, 2)
print(capture(app.root, "cgi"))
app.close()
shutil.rmtree(site)
