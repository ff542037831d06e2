"""docs/telnet.png: a coloured telnet session with the lab server, inspector open."""

from common import capture, launch, pump  # type: ignore[import-not-found]

app = launch()
tab = app.tab("telnet")
app.select_tab([t.key for t in app.tabs].index("telnet"))
peer = app.lab.peer("telnet")
peer.start()
tab.host_var.set(peer.host)
tab.port_var.set(str(peer.port))
tab.toggle_inspector()
pump(app.root, 0.5)
tab.connect()
pump(app.root, 5, until=lambda: "login:" in tab.terminal.all_text())
tab.side.secret_var.set("wirebench")
tab.side.run_automation()
pump(app.root, 8, until=lambda: tab.side.automation is not None
     and tab.side.automation.result)
pump(app.root, 1.0)
tab.type_text("ls\r")
pump(app.root, 1.0)
print(capture(app.root, "telnet"))
tab.session.close()
peer.stop()
app.close()
