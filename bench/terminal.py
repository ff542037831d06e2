"""Terminal throughput: a coloured ``ls -lR`` flood through the real telnet path.

The lab telnet server runs in its own process (``wirebench serve telnet``); the real app
(Tk, under Xvfb) connects its Telnet tab, logs in and runs ``flood N``. Measured:

* MiB/s from Enter to the frame that shows the flood's last line in the tab's view;
* the same bytes (as the session received them) fed to a plain
  ``pyte.Screen`` through ``pyte.ByteStream`` in 64 KiB reads — the reference;
* keystroke echo latency while the flood runs and when the line is idle: a key event
  on the view, the server's echo, the frame that paints it (p50/p99).

Goals: throughput >= 10x raw pyte; key -> echo painted p50 <= 10 ms and p99 <= 20 ms
during the flood, p99 <= 10 ms idle. The Tk loop is run as ``mainloop`` runs it (blocking
on the next event), so a frame is handled the moment its wake-up arrives. Exit status 1
when a goal is missed.

Run: ``python bench/terminal.py [--quick] [--server telnetd]`` (without a display it
re-runs itself under ``xvfb-run``). ``--server telnetd``: the peer is inetutils-telnetd
with a real pty (``bench/telnetd_peer.py``), so the echo comes from a tty's line
discipline, behind whatever the flood left in the pty and in telnetd's socket.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from required_tools import require_tool  # noqa: E402

os.environ.setdefault("WIREBENCH_CONFIG_DIR", tempfile.mkdtemp(prefix="wb-bench-cfg-"))
os.environ.setdefault("WIREBENCH_DATA_DIR", tempfile.mkdtemp(prefix="wb-bench-data-"))

MARK = "#"  # never appears in the flood listing
THROUGHPUT_GOAL = 10.0  # x raw pyte
FLOOD_GOALS = (10.0, 20.0)  # key -> echo painted p50, p99 (ms) during a flood
IDLE_GOALS = (10.0, 10.0)  # ... and at an idle prompt (only p99 is the goal)


def start_server() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui", "serve", "telnet", "--port", "0"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"listening on [\d.]+:(\d+)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"lab server did not start: {line!r}")
    return proc, int(match.group(1))


def reference_pyte(data: bytes, columns: int, rows: int) -> float:
    import pyte

    screen = pyte.Screen(columns, rows)
    stream = pyte.ByteStream(screen)
    t0 = time.perf_counter()
    for i in range(0, len(data), 65536):
        stream.feed(data[i:i + 65536])
    return time.perf_counter() - t0


def main() -> int:
    random.seed(7)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 2 MB instead of 11 MB")
    parser.add_argument("--lines", type=int, help="flood lines (overrides --quick)")
    parser.add_argument("--echo-seconds", type=float,
                        help="seconds of typing into an endless flood (default 5, quick 2)")
    parser.add_argument("--server", choices=("lab", "telnetd"), default="lab",
                        help="the peer: the lab telnet server (default) or inetutils-telnetd "
                             "with a pty, a stand-in login and the same flood command")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        xvfb_run = require_tool("xvfb-run", "xvfb", "the app (it needs a display)")
        return subprocess.call([xvfb_run, "-a", "-s", "-screen 0 1280x800x24",
                                sys.executable, __file__, *sys.argv[1:]])
    lines = args.lines or (35_000 if args.quick else 190_000)
    echo_seconds = args.echo_seconds or (2.0 if args.quick else 5.0)

    import tkinter as tk

    from core.telnet.screen_thread import FPS, KEY_FPS
    from gui.app import WirebenchApp

    if args.server == "telnetd":
        from telnetd_peer import TelnetdPeer

        peer = TelnetdPeer(require_tool("telnetd", "inetutils-telnetd",
                                        "the stock telnet server")).__enter__()
        port = peer.port
        stop_server = lambda: peer.__exit__(None, None, None)  # noqa: E731
    else:
        proc, port = start_server()

        def stop_server() -> None:
            proc.terminate()
            proc.wait(5)
    root = tk.Tk(className="Wirebench")
    app = WirebenchApp(root, lab_ephemeral=True)
    root.geometry("1280x800+0+0")
    tab = app.tab("telnet")
    app.select_tab(app.tabs.index(tab))
    session = tab.session
    result: dict[str, float] = {}
    latencies: list[float] = []
    idle_latencies: list[float] = []
    state = {"key_at": 0.0, "target": None, "flooding": False, "sent": 0}

    def pump_until(cond, timeout: float) -> bool:  # noqa: ANN001
        """Run Tk's event loop as mainloop does (blocking on the next event, so a frame
        is handled the moment its wake-up arrives) until ``cond()`` or the timeout; an
        earlier version slept 5 ms between update() calls, which added up to 5 ms to
        every measured latency."""
        end = time.monotonic() + timeout
        ticker = None

        def tick() -> None:  # wakes the loop to check cond() and the clock
            nonlocal ticker
            ticker = root.after(5, tick)

        tick()
        try:
            while time.monotonic() < end:
                root.tk.dooneevent(0)
                if cond():
                    return True
            return False
        finally:
            root.after_cancel(ticker)

    root.update()
    tab.host_var.set("127.0.0.1")
    tab.port_var.set(str(port))
    tab.connect()
    if not pump_until(lambda: "login:" in tab.terminal.all_text(), 15):
        raise SystemExit("no login prompt")
    session.send_text("lab\r")
    pump_until(lambda: "Password:" in tab.terminal.all_text(), 10)
    session.send_text("wirebench\r")
    pump_until(lambda: "$ " in tab.terminal.all_text(), 10)
    pump_until(lambda: False, 0.5)
    columns, rows = session.screen.columns, session.screen.lines

    # capture the flood's bytes for the reference, and when each echo was fed
    captured = bytearray()
    real_on_received = session._on_received

    def on_received(data: bytes) -> None:
        if state["flooding"]:
            captured.extend(data)
        real_on_received(data)

    session._on_received = on_received  # type: ignore[method-assign]
    painter = session.screen_thread
    real_feed = painter._feed

    def feed(data: bytes, interval: float) -> None:
        has_mark = MARK.encode() in data
        real_feed(data, interval)
        if has_mark and state["target"] is None and state["key_at"]:
            state["target"] = painter._fed

    painter._feed = feed  # type: ignore[method-assign]
    end_text = f"-- {lines} lines --"

    def on_frame(frame) -> None:  # noqa: ANN001
        now = time.perf_counter()
        target = state["target"]
        if target is not None and frame.fed >= target:
            (idle_latencies if state.get("idle") else latencies).append(
                now - state["key_at"])
            state["key_at"] = 0.0
            state["target"] = None
        if "done" not in result and any(
                end_text in "".join(t for t, _ in runs) for _, runs in frame.lines):
            result["done"] = now
            result.setdefault("flood_done", now)

    tab.terminal.frame_listeners.append(on_frame)
    widget = tab.terminal.text
    widget.focus_force()

    def press() -> None:
        if "done" in result:
            return
        if state["key_at"] and time.perf_counter() - state["key_at"] > 2.0:
            state["key_at"] = 0.0  # lost (should not happen); try again
            state["target"] = None
        if not state["key_at"] and time.perf_counter() - result["start"] > 0.05:
            state["key_at"] = time.perf_counter()
            state["sent"] += 1
            widget.event_generate("<KeyPress>", keysym="numbersign")
        # a random pause, as a typist's: keys are not in step with the frame clock
        root.after(random.randint(15, 60), press)

    state["flooding"] = True
    result["start"] = result["flood_start"] = time.perf_counter()
    session.send_text(f"flood {lines}\r")
    root.after(20, press)
    ok = pump_until(lambda: "done" in result, 600)
    state["flooding"] = False
    pump_until(lambda: False, 0.3)
    # phase 2: keep typing into a flood that does not end, then stop it with Ctrl-C
    flood_latencies = len(latencies)
    result.pop("done", None)
    end_text = "flood interrupted"
    session.send_text("\x7f" * 50 + "\r")
    pump_until(lambda: False, 0.3)
    result["start"] = time.perf_counter()
    paints_before = tab.terminal.paints
    session.send_text("flood 5000000\r")
    root.after(20, press)
    pump_until(lambda: False, echo_seconds)
    fps = (tab.terminal.paints - paints_before) / (time.perf_counter() - result["start"])
    state["key_at"] = 0.0
    state["target"] = None
    result["done"] = 0.0  # stops the key presses
    session.send_text("\x03")
    pump_until(lambda: "flood interrupted" in tab.terminal.all_text(), 20)
    pump_until(lambda: False, 0.3)
    # phase 3: the same typing at an idle prompt
    state["idle"] = True
    result.pop("done", None)
    result["start"] = time.perf_counter()
    root.after(20, press)
    pump_until(lambda: False, echo_seconds)
    state["key_at"] = 0.0
    state["target"] = None
    result["done"] = 0.0
    pump_until(lambda: False, 0.2)
    session.send_text("\x15\r")  # Ctrl-U: drop the typed marks
    pump_until(lambda: False, 0.2)
    session.send_text("exit\r")
    pump_until(lambda: not session.connected, 5)
    tab.session.close()
    app.close()
    stop_server()
    if not ok:
        print("flood did not finish in time")
        return 1

    size = len(captured)
    mib = size / (1 << 20)
    elapsed = result["flood_done"] - result["flood_start"]
    ref = reference_pyte(bytes(captured), columns, rows)
    ours = mib / elapsed
    raw = mib / ref
    print(f"peer: {'inetutils-telnetd (pty)' if args.server == 'telnetd' else 'lab server'}")
    print(f"stream: {lines} lines, {mib:.1f} MiB of coloured ls -lR, screen {columns}x{rows}")
    print(f"telnet tab (socket -> protocol -> screen -> Tk view): {elapsed:.2f} s, "
          f"{ours:.2f} MiB/s")
    print(f"reference pyte.Screen + ByteStream.feed, same bytes: {ref:.2f} s, "
          f"{raw:.2f} MiB/s")
    missed = 0
    ratio = ours / raw
    missed += ratio < THROUGHPUT_GOAL
    print(f"ratio: {ratio:.2f}x raw pyte (goal >= {THROUGHPUT_GOAL:g}x: "
          f"{'met' if ratio >= THROUGHPUT_GOAL else 'NOT met'})")
    print(f"keys pressed: {state['sent']} ({flood_latencies} during the measured flood, "
          f"{len(latencies) - flood_latencies} during {echo_seconds:g} s of an endless one, "
          f"{len(idle_latencies)} at an idle prompt)")
    for label, sample, goals in (("while flooding", latencies, FLOOD_GOALS),
                                 ("idle", idle_latencies, IDLE_GOALS)):
        if not sample:
            print(f"echo latency {label}: no keystroke was echoed")
            missed += 1
            continue
        p50, p99, worst = percentiles(sample)
        ok = p50 <= goals[0] and p99 <= goals[1]
        missed += not ok
        print(f"echo latency {label}: n={len(sample)} p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
              f"max {worst:.1f} ms (goal p50 <= {goals[0]:g} ms, p99 <= {goals[1]:g} ms: "
              f"{'met' if ok else 'NOT met'})")
    print(f"view paints during the endless flood with typing: {fps:.1f} per second "
          f"(cap {FPS} without typing, {KEY_FPS} after a keystroke once the view kept up)")
    print(f"shortcut skipped {session.screen.skipped_chars / (1 << 20):.1f} MiB of "
          "text that scrolled away unseen")
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 1 if missed else 0


def percentiles(seconds: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max in milliseconds."""
    ms = sorted(x * 1000 for x in seconds)
    return (statistics.median(ms), ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))],
            ms[-1])


if __name__ == "__main__":
    raise SystemExit(main())
