"""A user works the Lookup tab against the lab DNS server and sees the results."""

from __future__ import annotations

import pytest


@pytest.fixture
def lookup(app):
    tab = app.tab("lookup")
    app.select_tab(app.tabs.index(tab))
    return tab


def ask_lab(lookup, dns_lab, wait_until, name: str, rdtype: str):
    """Fill the DNS form for the lab server, press Query, wait for the reply."""
    view = lookup.show_view("dns")
    view.server.set("127.0.0.1")
    view.port.delete(0, "end")
    view.port.insert(0, str(dns_lab.port))
    view.name.set(name)
    view.rdtype.set(rdtype)
    view.last_reply = None
    view.query_button.invoke()
    wait_until(lambda: view.last_reply is not None, message="no DNS reply shown")
    return view


def test_mx_query_shows_answer_tree_and_raw_text(lookup, dns_lab, wait_until) -> None:
    view = ask_lab(lookup, dns_lab, wait_until, "wirebench.test", "MX")
    rows = [view.tree.item(i, "values") for top in view.tree.get_children()
            for i in view.tree.get_children(top)]
    assert any(r[2] == "MX" and r[3] == "10 mail.wirebench.test." for r in rows)
    assert "status: NOERROR" in view.raw.get_text()
    assert "NOERROR: 2 answer records" in view.message_var.get()
    assert "wirebench.test" in view.name.cget("values")  # remembered


def test_trace_fills_the_trace_view_step_by_step(lookup, dns_lab, wait_until) -> None:
    view = lookup.show_view("dns")
    view.port.delete(0, "end")
    view.port.insert(0, str(dns_lab.port))
    view.roots.delete(0, "end")
    view.roots.insert(0, "127.0.0.2")
    view.name.set("www.wirebench.test")
    view.rdtype.set("A")
    view.last_trace = None
    view.trace_button.invoke()
    wait_until(lambda: view.last_trace is not None, message="trace did not finish")
    steps = view.trace_tree.get_children()
    assert [view.trace_tree.item(s, "text") for s in steps] == [
        "#1 .", "#2 test.", "#3 wirebench.test."]
    assert view.trace_tree.item(steps[2], "values")[2] == "ANSWER"
    assert "Trace done in 3 steps" in view.message_var.get()
    assert view.results.index("current") == 2


def test_batch_runs_and_exports(lookup, wait_until, tmp_path) -> None:
    view = lookup.show_view("batch")
    peer = lookup.app.lab.peer("dns")
    assert not peer.running
    view.port.delete(0, "end")
    view.lab_sample()  # starts the app's lab DNS server and points the batch at it
    wait_until(lambda: peer.running and view.port.get() == str(peer.port))
    try:
        run_batch_and_export(view, wait_until, tmp_path)
    finally:
        peer.stop()


def run_batch_and_export(view, wait_until, tmp_path) -> None:
    view.result = None
    view.run_button.invoke()
    wait_until(lambda: view.result is not None, message="batch did not finish")
    rows = [view.table.item(i, "values") for i in view.table.get_children()]
    assert len(rows) == 204
    status = {r[1]: r[2] for r in rows}
    assert status["host0.batch.wirebench.test"] == "NOERROR"
    assert status["nope.wirebench.test"] == "NXDOMAIN"
    assert status["a..b"] == "invalid"
    assert "201 NOERROR" in view.message_var.get()
    assert view.run_button.instate(["!disabled"])
    out = tmp_path / "batch.csv"
    view.export(str(out))
    assert out.read_text().count("\n") == 205


def test_bad_name_is_explained_and_field_marked(lookup, wait_until) -> None:
    view = lookup.show_view("dns")
    view.name.set("a..b")
    view.query_button.invoke()
    wait_until(lambda: "empty label" in view.message_var.get())
    assert view.name.instate(["invalid"])
    assert "empty label" in lookup.app.status_var.get()
    view.name.set("wirebench.test")
    view.port.delete(0, "end")
    view.port.insert(0, "99999")
    view.query_button.invoke()
    wait_until(lambda: "65535" in view.message_var.get())
    assert view.port.instate(["invalid"])


def test_host_and_services_views(lookup, wait_until) -> None:
    host = lookup.show_view("host")
    host.host.set("localhost")
    host.resolve("gethostbyname")
    wait_until(lambda: any("127.0.0.1" in host.tree.item(i, "values")
                           for i in host.tree.get_children()))
    host.port.delete(0, "end")
    host.port.insert(0, "ftp")
    host.family.set("IPv4")
    host.gai_button.invoke()
    wait_until(lambda: any(str(host.tree.item(i, "values")[4]) == "21"
                           for i in host.tree.get_children()))
    import tkinter.font as tkfont

    font, width = tkfont.nametofont("TkDefaultFont"), host.tree.column("type", "width")
    for item in host.tree.get_children():  # "SOCK_STREAM tcp" was cut to "SOCK_STREA"
        assert font.measure(host.tree.set(item, "type")) + 8 <= width
    assert "gethostname()" in host.machine_var.get()
    assert ", 80)" in host.machine_var.get()  # hostname and getservbyname('http', 'tcp')

    services = lookup.show_view("services")
    services.service.delete(0, "end")
    services.service.insert(0, "http")
    services.proto.set("tcp")
    services.by_name()
    wait_until(lambda: services.result_var.get().endswith("= 80"))
    wait_until(lambda: services.table.get_children())
    services.search_var.set("ftp")
    names = {services.table.item(i, "values")[0] for i in services.table.get_children()}
    assert "ftp" in names and "http" not in names
    services.proto_by_name()
    wait_until(lambda: services.result_var.get().endswith("= 1"))


def test_byte_order_view(lookup) -> None:
    view = lookup.show_view("byteorder")
    view.value.delete(0, "end")
    view.value.insert(0, "0x1234")
    view.convert("htons")
    text = view.conv_text.get("1.0", "end")
    assert "on the wire (network)   : 12 34" in text
    view.value.delete(0, "end")
    view.value.insert(0, "70000")
    view.convert("htons")
    assert "0–65535" in view.message_var.get()
    view.address.delete(0, "end")
    view.address.insert(0, "::1")
    view.family.set("IPv6")
    view.address_call("inet_pton")
    assert "00 01" in view.addr_var.get()
    assert len(view.examples.get_children()) >= 5


def test_send_to_other_tabs(lookup, dns_lab, wait_until) -> None:
    view = ask_lab(lookup, dns_lab, wait_until, "_ftp._tcp.wirebench.test", "SRV")
    host, port = view.selected()
    assert (host, port) == ("ftp.wirebench.test.", 2121)
    seen = []
    ftp = lookup.app.tab("ftp")
    original = ftp.open_target
    ftp.open_target = lambda h, p=None: seen.append((h, p))
    try:
        view.send_to("ftp", view.selected, 21)
    finally:
        ftp.open_target = original
    assert seen == [("ftp.wirebench.test", 2121)]
    assert lookup.app.current_tab() is ftp
    lookup.app.select_tab(lookup.app.tabs.index(lookup))


def test_fields_are_saved(lookup) -> None:
    lookup.dns_view.name.set("saved.wirebench.test")
    lookup.save_fields()
    assert lookup.fields["dns_name"] == "saved.wirebench.test"
    assert isinstance(lookup.fields["view"], int)


def set_entry(widget, text: str) -> None:
    widget.delete(0, "end")
    widget.insert(0, text)


def test_every_view_field_comes_back_in_a_new_tab(lookup) -> None:
    """What a user typed in each sub-view is what the next start shows."""
    from gui.tabs.lookup.tab import LookupTab

    host, services, byteorder = lookup.host_view, lookup.services_view, lookup.byteorder_view
    dns, batch = lookup.dns_view, lookup.batch_view
    before = {key: var.get() for key, var in lookup._persisted.items()}
    names_before = batch.names.get("1.0", "end-1c")
    host.host.set("kept.example")
    set_entry(host.port, "8443")
    host.family.set("IPv6")
    host.flag_vars["AI_CANONNAME"].set(False)
    set_entry(services.service, "smtp")
    services.proto.set("udp")
    set_entry(byteorder.value, "0x1234")
    set_entry(byteorder.address, "::1")
    dns.rdtype.set("MX")
    dns.server.set("127.0.0.1")
    set_entry(dns.port, "5353")
    dns.opt["dnssec"].set(True)
    set_entry(dns.ca_file, "/tmp/lab.pem")
    batch.mode.set("system")
    set_entry(batch.port, "5300")
    batch.names.delete("1.0", "end")
    batch.names.insert("1.0", "one.example\n")
    lookup.save_fields()
    fresh = LookupTab(lookup.app.root, lookup.app)
    try:
        assert (fresh.host_view.host.get(), fresh.host_view.port.get(),
                fresh.host_view.family.get()) == ("kept.example", "8443", "IPv6")
        assert not fresh.host_view.flag_vars["AI_CANONNAME"].get()
        assert (fresh.services_view.service.get(), fresh.services_view.proto.get()) == \
            ("smtp", "udp")
        assert (fresh.byteorder_view.value.get(), fresh.byteorder_view.address.get()) == \
            ("0x1234", "::1")
        assert (fresh.dns_view.rdtype.get(), fresh.dns_view.server.get(),
                fresh.dns_view.port.get(), fresh.dns_view.ca_file.get()) == \
            ("MX", "127.0.0.1", "5353", "/tmp/lab.pem")
        assert fresh.dns_view.opt["dnssec"].get() is True
        assert (fresh.batch_view.mode.get(), fresh.batch_view.port.get()) == ("system", "5300")
        assert fresh.batch_view.names.get("1.0", "end-1c").startswith("one.example")
    finally:
        fresh.close()
        fresh.destroy()
        # the app is shared by later tests: give them back the fields they started with
        for key, value in before.items():
            lookup._persisted[key].set(value)
        host.flag_vars["AI_CANONNAME"].set(True)
        batch.names.delete("1.0", "end")
        batch.names.insert("1.0", names_before)
        lookup.save_fields()


def test_dot_query_to_the_app_lab_peer(lookup, wait_until) -> None:
    peer = lookup.app.lab.peer("dns")
    peer.start()
    try:
        view = lookup.show_view("dns")
        view.transport.set("tls")
        view.use_lab()  # the running peer's TLS port and the lab certificate
        assert view.port.get() == str(peer.tls_port)
        assert view.ca_file.get().endswith(".pem")
        view.name.set("www.wirebench.test")
        view.rdtype.set("AAAA")
        view.last_reply = None
        view.query_button.invoke()
        wait_until(lambda: view.last_reply is not None, message="no DoT reply")
        assert view.last_reply.transport == "tls" and view.last_reply.short() == ["::1"]
        assert "(TLS)" in view.raw.get_text()
    finally:
        view.transport.set("udp")
        view.ca_file.delete(0, "end")
        peer.stop()


def test_following_records_walks_the_zone(lookup, dns_lab, wait_until) -> None:
    view = ask_lab(lookup, dns_lab, wait_until, "wirebench.test", "MX")
    answer = view.tree.get_children()[1]  # Header, Answer, Authority, Additional
    mx = next(i for i in view.tree.get_children(answer)
              if view.tree.item(i, "values")[3] == "10 mail.wirebench.test.")
    view.tree.selection_set(mx)
    view.last_reply = None
    view.follow()  # the MX target's address
    wait_until(lambda: view.last_reply is not None)
    assert view.last_reply.qname == "mail.wirebench.test." and view.last_reply.short() == [
        "127.0.0.1"]
    answer = view.tree.get_children()[1]
    view.tree.selection_set(view.tree.get_children(answer)[0])
    view.copy_value()
    assert view.clipboard_get() == "127.0.0.1"
    view.last_reply = None
    view.follow()  # the address's PTR record
    wait_until(lambda: view.last_reply is not None)
    assert view.last_reply.rdtype == "PTR" and view.last_reply.short() == ["wirebench.test."]


def test_show_query_puts_the_sent_message_above_the_reply(lookup, dns_lab, wait_until) -> None:
    lookup.dns_view.show_query.set(True)
    try:
        view = ask_lab(lookup, dns_lab, wait_until, "www.wirebench.test", "A")
        text = view.raw.get_text()
        assert text.index(";; Sending:") < text.index(";; Got answer:")
    finally:
        lookup.dns_view.show_query.set(False)


def test_batch_cancel_and_host_errors(lookup, dns_lab, wait_until) -> None:
    view = lookup.show_view("batch")
    view.names.delete("1.0", "end")
    view.names.insert("1.0", "silent.wirebench.test\n" * 30)
    view.server.set("127.0.0.1")
    view.port.delete(0, "end")
    view.port.insert(0, str(dns_lab.port))
    view.timeout.set("5")
    view.result = None
    view.run_button.invoke()
    assert view.cancel_button.instate(["!disabled"])
    view.cancel_button.invoke()
    wait_until(lambda: view.result is not None, timeout=5, message="cancel did not stop")
    assert view.result.cancelled and "cancelled" in view.message_var.get()
    view.timeout.set("2")

    host = lookup.show_view("host")
    host.host.set("a..b")
    host.resolve("gethostbyname")
    wait_until(lambda: "empty label" in host.message_var.get())
    assert host.host.instate(["invalid"])
    host.host.set("localhost")


def test_one_session_and_an_error_reaches_the_view_that_asked(lookup, wait_until) -> None:
    assert all(view.session is lookup.session for view in lookup.all_views)
    services = lookup.show_view("services")
    services.service.delete(0, "end")
    services.service.insert(0, "no-such-service")
    services.by_name()
    lookup.show_view("host")  # the user moves on before the answer comes
    wait_until(lambda: "Unknown service" in services.message_var.get())
    assert services.service.instate(["invalid"])
    assert "Unknown service" not in lookup.host_view.message_var.get()
    services.service.delete(0, "end")
    services.service.insert(0, "http")
    services.by_name()
    wait_until(lambda: "= 80" in services.message_var.get())


def test_lab_button_works_on_first_click_and_names_the_lab_zone(lookup, wait_until) -> None:
    view = lookup.show_view("dns")
    peer = lookup.app.lab.peer("dns")
    assert not peer.running
    view.server.set("system")
    view.port.delete(0, "end")
    view.transport.set("udp")
    lookup.use_lab()  # the tab's Lab button: the lab starts, the form points at it
    try:
        wait_until(lambda: peer.running and view.port.get() == str(peer.port))
        assert view.server.get() == "127.0.0.1"
        view.name.set("www.wirebench.test")
        view.rdtype.set("A")
        view.query_button.invoke()
        wait_until(lambda: view.last_reply is not None, message=view.message_var.get())
        assert view.last_reply.short() == ["127.0.0.1"]
    finally:
        peer.stop()


def test_a_failed_query_clears_the_last_answer_and_history_keeps_both(
        lookup, dns_lab, wait_until, closed_udp_port) -> None:
    lookup.show_view("dns").history.clear()  # other tests asked before
    view = ask_lab(lookup, dns_lab, wait_until, "www.wirebench.test", "A")
    assert view.tree.get_children()
    view.port.delete(0, "end")
    view.port.insert(0, str(closed_udp_port))
    view.timeout.set("30")
    view.query_button.invoke()
    # a closed UDP port answers with ICMP: refused at once, not after the 30 s timeout
    wait_until(lambda: "refused" in view.message_var.get(), timeout=20,
               message=view.message_var.get())
    assert view.tree.get_children() == () and view.raw.get_text() == ""
    assert view.last_reply is None
    rows = [view.history.tree.item(i, "values") for i in view.history.tree.get_children()]
    assert [r[1] for r in rows] == ["www.wirebench.test A"] * 2
    assert rows[0][3].startswith("failed: Connection refused")
    assert rows[1][3] == "NOERROR, 1 answer"

    # compare the two, then run the good one again from the history
    view.history.tree.selection_set(view.history.tree.get_children())
    diff = view.history.compare()
    assert "+;; Connection refused" in diff and "-www.wirebench.test." in diff
    view.history.tree.selection_set(view.history.tree.get_children()[1])
    view.history.again_button.invoke()
    wait_until(lambda: view.last_reply is not None, message=view.message_var.get())
    assert view.port.get() == str(dns_lab.port) and view.last_reply.short() == ["127.0.0.1"]
    assert len(view.history.tree.get_children()) == 3


def test_nxdomain_for_a_lab_name_from_another_server_points_at_the_lab(
        lookup, dns_lab, wait_until) -> None:
    view = ask_lab(lookup, dns_lab, wait_until, "nope.wirebench.test", "A")
    # dns_lab is not the app's lab peer: to the view it is "another server"
    assert "press Use lab server" in view.message_var.get()
