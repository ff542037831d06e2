"""Batch resolution against the lab server: 200 names, errors as rows, CSV export."""

from __future__ import annotations

import csv
import threading

import pytest

from core.errors import UserError
from core.lookup.dns_batch import parse_names, read_names, run_batch, write_csv


def test_batch_of_200_names(dns_lab) -> None:
    names = [f"host{i}.batch.wirebench.test" for i in range(200)]
    progress: list[tuple[int, int]] = []
    result = run_batch(names, "A", "127.0.0.1", dns_lab.port, window=32,
                       on_progress=lambda d, t: progress.append((d, t)))
    assert len(result.rows) == 200
    assert [r.name for r in result.rows] == names  # input order kept
    assert all(r.status == "NOERROR" and r.answers == ("127.0.0.1",) for r in result.rows)
    assert progress[-1] == (200, 200)
    assert "200 NOERROR" in result.summary()


def test_mixed_outcomes_become_rows(dns_lab) -> None:
    names = ["www.wirebench.test", "nope.wirebench.test", "example.com", "a..b",
             "big.wirebench.test", "alias.wirebench.test", "nodata.wirebench.test"]
    rows = run_batch(names, "A", "127.0.0.1", dns_lab.port).rows
    status = {r.name: r for r in rows}
    assert status["www.wirebench.test"].answers == ("127.0.0.1",)
    assert status["nope.wirebench.test"].status == "NXDOMAIN"
    assert status["example.com"].status == "REFUSED"
    assert status["a..b"].status == "invalid" and "empty label" in status["a..b"].note
    big = status["big.wirebench.test"]
    assert len(big.answers) == 200 and "TCP" in big.note
    assert status["alias.wirebench.test"].answers == ("www.wirebench.test.", "127.0.0.1")
    assert "NODATA" in status["nodata.wirebench.test"].note


def test_other_types(dns_lab) -> None:
    rows = run_batch(["wirebench.test", "_ftp._tcp.wirebench.test"], "MX", "127.0.0.1",
                     dns_lab.port).rows
    assert "10 mail.wirebench.test." in rows[0].answers
    assert "NODATA" in rows[1].note
    aaaa = run_batch(["www.wirebench.test"], "AAAA", "127.0.0.1", dns_lab.port).rows
    assert aaaa[0].answers == ("::1",)


def test_silent_server_times_out_after_retries(closed_udp_port) -> None:
    result = run_batch(["a.test", "b.test"], "A", "127.0.0.1", closed_udp_port,
                       timeout=0.2, tries=2)
    assert [r.status for r in result.rows] == ["timeout", "timeout"]
    assert "2 tries" in result.rows[0].note


def test_cancel_stops_early(dns_lab) -> None:
    cancel = threading.Event()
    cancel.set()
    result = run_batch(["www.wirebench.test"] * 50, "A", "127.0.0.1", dns_lab.port,
                       cancel=cancel)
    assert result.cancelled and len(result.rows) < 50


def test_system_mode_uses_the_host_resolver() -> None:
    result = run_batch(["localhost", "no-such-host.invalid", "a..b"], mode="system",
                       timeout=5)
    rows = {r.name: r for r in result.rows}
    assert "127.0.0.1" in rows["localhost"].answers
    assert rows["no-such-host.invalid"].status in ("NXDOMAIN", "error")
    assert rows["a..b"].status == "invalid"


def test_names_parsing_and_file(tmp_path) -> None:
    assert parse_names("a.test\n# comment\n\nb.test, c.test  # trailing\n") == [
        "a.test", "b.test", "c.test"]
    path = tmp_path / "names.txt"
    path.write_text("x.test\ny.test\n")
    assert read_names(path) == ["x.test", "y.test"]
    with pytest.raises(UserError, match="Cannot read"):
        read_names(tmp_path / "missing.txt")


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"names": []}, "Names is empty"),
    ({"names": ["a.test"], "mode": "magic"}, "Mode"),
    ({"names": ["a.test"], "window": 0}, "Concurrency"),
    ({"names": ["a.test"], "timeout": 0}, "Timeout"),
    ({"names": ["a.test"], "port": 70000, "server": "127.0.0.1"}, "65535"),
    ({"names": ["a.test"], "rdtype": "NOPE", "server": "127.0.0.1"}, "unknown"),
])
def test_bad_batch_input(kwargs, needle) -> None:
    names = kwargs.pop("names")
    with pytest.raises(UserError, match=needle):
        run_batch(names, **kwargs)


def test_csv_export(dns_lab, tmp_path) -> None:
    result = run_batch(["www.wirebench.test", "=cmd.test", "nope.wirebench.test"], "A",
                       "127.0.0.1", dns_lab.port)
    path = write_csv(result, tmp_path / "out.csv")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["index", "name", "status", "answers", "rtt_ms", "note"]
    assert rows[1][:4] == ["1", "www.wirebench.test", "NOERROR", "127.0.0.1"]
    assert rows[2][1] == "'=cmd.test"  # no formula injection in a spreadsheet
    assert rows[3][2] == "NXDOMAIN"
    with pytest.raises(UserError, match="Cannot write"):
        write_csv(result, tmp_path / "no" / "dir" / "x.csv")


def test_server_given_by_name(dns_lab) -> None:
    rows = run_batch(["www.wirebench.test"], "A", "localhost", dns_lab.port).rows
    assert rows[0].answers == ("127.0.0.1",)
    with pytest.raises(UserError, match="empty label"):
        run_batch(["www.wirebench.test"], "A", "bad..server", dns_lab.port)


def test_one_silent_name_times_out_while_the_rest_answer(dns_lab) -> None:
    names = ["silent.wirebench.test", "servfail.wirebench.test"] + [
        f"q{i}.batch.wirebench.test" for i in range(20)]
    rows = run_batch(names, "A", "127.0.0.1", dns_lab.port, timeout=0.3, tries=2).rows
    assert rows[0].status == "timeout" and rows[1].status == "SERVFAIL"
    assert all(r.status == "NOERROR" for r in rows[2:])
