"""Deterministic Braze ids from the seed and per-kind counters (spec §1 "ID formats")."""

from __future__ import annotations

import hashlib
from collections import Counter


class Ids:
    """``dispatch_id`` 32 hex, ``schedule_id``/send/request ids UUID-shaped, ``braze_id`` 24 hex."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._counters: Counter[str] = Counter()

    def _digest(self, kind: str) -> str:
        self._counters[kind] += 1
        return hashlib.sha256(f"braze:{self.seed}:{kind}:{self._counters[kind]}".encode()).hexdigest()

    def hex32(self, kind: str) -> str:
        return self._digest(kind)[:32]

    def uuid(self, kind: str) -> str:
        h = self._digest(kind)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"

    def hex24(self, kind: str) -> str:
        return self._digest(kind)[:24]

    def dispatch_id(self) -> str:
        return self.hex32("dispatch")

    def schedule_id(self) -> str:
        return self.uuid("schedule")

    def send_id(self) -> str:
        return self.uuid("send")

    def request_id(self) -> str:
        return self.uuid("request")

    def braze_id(self) -> str:
        return self.hex24("braze_id")

    def reset(self) -> None:
        self._counters.clear()
