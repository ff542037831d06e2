from __future__ import annotations

import threading

from core.codegen import RENDERERS, render
from core.recording import Recording


def test_steps_keep_order_and_exact_arguments() -> None:
    rec = Recording("socket")
    rec.add("connect", family="tcp", host="127.0.0.1", port=7000)
    rec.add("send", data=b"\x00\xff\r\n")
    assert [s.op for s in rec] == ["connect", "send"]
    assert rec.steps()[1].args["data"] == b"\x00\xff\r\n"
    assert rec.version == 2 and len(rec) == 2


def test_limit_bounds_a_flood_and_says_so() -> None:
    rec = Recording("socket", limit=100)
    threads = [threading.Thread(target=lambda: [rec.add("send", data=b"x") for _ in range(50)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rec) == 100 and rec.truncated
    rec.clear()
    assert len(rec) == 0 and not rec.truncated


def test_every_registered_renderer_renders_an_empty_recording() -> None:
    for kind in RENDERERS:
        script = render(Recording(kind))
        compile(script, f"<{kind}>", "exec")
    assert "No script renderer" in render(Recording("unknown-kind"))


def test_each_connection_starts_a_recording_and_ends_it_once() -> None:
    rec = Recording("smtp")
    rec.begin("connect", host="a")
    rec.add("ehlo")
    rec.end("quit")
    rec.end("close")  # the same connection cannot end twice
    assert [s.op for s in rec] == ["connect", "ehlo", "quit"]
    rec.begin("connect", host="b")  # the next connection is a new recording
    assert [(s.op, s.args) for s in rec] == [("connect", {"host": "b"})]
    assert rec.connected
    rec.end("close")
    assert [s.op for s in rec] == ["connect", "close"] and not rec.connected


def test_replace_rewrites_one_step() -> None:
    rec = Recording("telnet")
    index = rec.add("send", secret=True)
    version = rec.version
    rec.replace(index, "send", secret=False)
    assert rec.steps()[0].args == {"secret": False} and rec.version == version + 1
