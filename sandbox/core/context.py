"""``Context``: the application state every vendor request touches, gathered once at startup.

Each vendor route's ``Endpoint`` holds it, so the request path reads attributes instead of looking each piece
up in the application on every request (``request.app`` walks the match info; each ``app[key]`` is a call).
The objects are the same as under the app's keys (``sandbox.core.keys``), which are set once and never
replaced.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sandbox.core.clock import Clock
from sandbox.core.faults import FaultBook
from sandbox.core.metrics import Metrics
from sandbox.core.ratelimit import RateLimiter
from sandbox.core.validation import Validators
from sandbox.records.journal import Journal
from sandbox.settings import Settings


class Context:
    __slots__ = ("clock", "failures", "faults", "journal", "limiter", "metrics", "settings", "validators")

    def __init__(self, settings: Settings, journal: Journal, clock: Clock, faults: FaultBook,
                 limiter: RateLimiter, metrics: Metrics, failures: deque[dict[str, Any]],
                 validators: Validators) -> None:
        self.settings = settings
        self.journal = journal
        self.clock = clock
        self.faults = faults
        self.limiter = limiter
        self.metrics = metrics
        self.failures = failures
        self.validators = validators
