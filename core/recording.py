"""What a user did in a session, as data: the input of "Show as Python".

A session appends one :class:`Step` per operation (connect with its options, send with
the exact bytes, shutdown, a query with its parameters …). Renderers in ``core/codegen``
turn a recording into a standalone script. Secrets are never recorded: a step records
*that* a password was used, not the password.
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

    def add(self, op: str, **args: Any) -> None:
        with self._lock:
            if len(self._steps) >= self.limit:
                self.truncated = True  # a flood must not grow the script without bound
                return
            self._steps.append(Step(op, dict(args)))
            self.version += 1

    def clear(self) -> None:
        with self._lock:
            self._steps.clear()
            self.truncated = False
            self.version += 1

    def steps(self) -> list[Step]:
        with self._lock:
            return list(self._steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps())

    def __len__(self) -> int:
        with self._lock:
            return len(self._steps)
