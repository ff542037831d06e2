"""docs/lookup.png: the Lookup tab's DNS view after an MX query to the lab server,
plus docs/lookup-trace.png (a trace through the lab root) and docs/lookup-batch.png."""

from common import capture, launch, pump  # type: ignore[import-not-found]

app = launch()
app.select_tab(1)
tab = app.tab("lookup")
peer = app.lab.peer("dns")
peer.start()
try:
    view = tab.show_view("dns")
    view.use_lab()
    view.name.set("wirebench.test")
    view.rdtype.set("MX")
    view.query()
    pump(app.root, 5, until=lambda: view.last_reply is not None)
    print(capture(app.root, "lookup"))
    view.name.set("chain.wirebench.test")
    view.rdtype.set("A")
    view.trace()
    pump(app.root, 5, until=lambda: view.last_trace is not None)
    print(capture(app.root, "lookup-trace"))
    batch = tab.show_view("batch")
    batch.lab_sample()
    batch.start()
    pump(app.root, 10, until=lambda: batch.result is not None)
    print(capture(app.root, "lookup-batch"))
    tab.show_view("byteorder").convert("htons")
    print(capture(app.root, "lookup-byteorder"))
finally:
    peer.stop()
    app.close()
