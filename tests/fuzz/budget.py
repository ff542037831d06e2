"""How many examples each fuzz test runs: a few thousand in total for CI (well under a
minute), more for a long local run with ``WIREBENCH_FUZZ_EXAMPLES=N`` (each test then
runs at least N examples).

Every parser that takes bytes from the network has a property test here: it raises
nothing but its module's own error type, and what it returns is bounded by its input.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_FLOOR = int(os.environ.get("WIREBENCH_FUZZ_EXAMPLES", "0") or 0)


def fuzz(examples: int) -> settings:
    """Hypothesis settings for one fuzz test: ``examples`` in CI, more when asked."""
    return settings(max_examples=max(examples, _FLOOR), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
