"""What a user did in a session, as data: the input of "Show as Python".

A session appends one :class:`Step` per operation (connect with its options, send with
the exact bytes, shutdown, a query with its parameters …). Renderers in ``core/codegen``
turn a recording into a standalone script. Secrets are never recorded: a step records
*that* a password was used, not the password.

One rule for every tab: **a recording holds one connection.** ``begin()`` (called at
every connect, listen or open) starts a new recording with the connect step; ``end()``
closes it with the step that ended the connection (QUIT, close) — once, however the
connection ended. Tabs without connections (Lookup) record every action until cleared.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Step:
    op: str
    args: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


class Recording:
    """A thread-safe, append-only list of steps with a version counter for viewers."""

    def __init__(self, kind: str, limit: int = 10_000) -> None:
        self.kind = kind
        self.limit = limit
        self._steps: list[Step] = []
        self._lock = threading.Lock()
        self.version = 0
        self.truncated = False
        self._open = False  # a connection began and has not ended yet

    def add(self, op: str, **args: Any) -> int:
        """Append a step; its index (or -1 when the recording is full)."""
        with self._lock:
            if len(self._steps) >= self.limit:
                self.truncated = True  # a flood must not grow the script without bound
                return -1
            self._steps.append(Step(op, dict(args)))
            self.version += 1
            return len(self._steps) - 1

    def replace(self, index: int, op: str, **args: Any) -> None:
        """Rewrite one step (a typed line found to be a secret, or not, after the fact)."""
        with self._lock:
            if 0 <= index < len(self._steps):
                self._steps[index] = Step(op, dict(args), self._steps[index].at)
                self.version += 1

    def begin(self, op: str, **args: Any) -> None:
        """A new connection: a new recording that starts with ``op`` (connect, listen …)."""
        with self._lock:
            self._steps.clear()
            self.truncated = False
            self._steps.append(Step(op, dict(args)))
            self._open = True
            self.version += 1

    def end(self, op: str, **args: Any) -> None:
        """The connection ended (``op`` is quit or close): recorded once per connection."""
        with self._lock:
            if not self._open:
                return
            self._open = False
        self.add(op, **args)

    @property
    def connected(self) -> bool:
        """A connection began and has not ended."""
        return self._open

    def clear(self) -> None:
        with self._lock:
            self._steps.clear()
            self.truncated = False
            self._open = False
            self.version += 1

    def steps(self) -> list[Step]:
        with self._lock:
            return list(self._steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps())

    def __len__(self) -> int:
        with self._lock:
            return len(self._steps)
