"""Repeat and auto-reply on the I/O thread: the session side of core/sockets/automation.py.

:class:`RepeatRunner` is a mixin of :class:`core.sockets.session.SocketSession`; the
loop calls :meth:`_repeat_step` on every turn while a repeat runs.
"""

from __future__ import annotations

import time

from core.errors import UserError
from core.events import Progress
from core.sockets.automation import RepeatPlan
from core.sockets.loop import HIGH_WATER


class RepeatRunner:
    """Sends a :class:`RepeatPlan` paced by the loop; answers matching data with rules."""

    def _auto_reply(self, data: bytes, peer: str) -> None:
        for rule in self.auto_replies:
            if rule.matches(data):
                try:
                    self._send_now(rule.reply, peer, check=True)
                except (UserError, OSError) as exc:
                    self._log(f"Auto-reply to {peer} not sent: {exc}", "warning")
                return

    def _begin_repeat(self, plan: RepeatPlan) -> None:
        self._repeat = plan
        self._repeat_sent = 0
        self._repeat_next = time.monotonic()
        self._log(f"Repeat: {plan.count} times every {plan.interval_ms} ms.")

    def _end_repeat(self, why: str, quiet: bool = False) -> None:
        plan, self._repeat = self._repeat, None
        if plan is not None and not quiet:
            self.post(Progress(source=self.source, done=self._repeat_sent, total=plan.count,
                               label=f"repeat {why}"))

    def _repeat_backlogged(self, plan: RepeatPlan) -> bool:
        if self.role == "datagram":
            return False
        return any(len(s.out) > HIGH_WATER for s in self._targets(plan.peer))

    def _repeat_step(self) -> None:
        plan = self._repeat
        assert plan is not None
        now = time.monotonic()
        if now < self._repeat_next:
            return
        # interval 0: send in bursts bounded by time so commands and reads still run
        burst_end = now + 0.005
        while self._repeat_sent < plan.count:
            if self._repeat_backlogged(plan):
                self._repeat_next = now + 0.005
                break
            self._repeat_sent += 1
            try:
                self._send_now(plan.payload(self._repeat_sent), plan.peer, check=True)
            except UserError as exc:
                self._end_repeat(f"stopped: {exc}")
                return
            if plan.interval_ms:
                self._repeat_next = now + plan.interval_ms / 1000.0
                break
            if time.monotonic() > burst_end:
                self._repeat_next = time.monotonic()
                break
        if self._repeat_sent >= plan.count:
            self._end_repeat("done")
        elif now - self._repeat_progress_at > 0.2:
            self._repeat_progress_at = now
            self.post(Progress(source=self.source, done=self._repeat_sent, total=plan.count,
                               label="repeat"))

