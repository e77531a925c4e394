"""Deterministic ids: a function of (seed, vendor, tenant, kind, sequence within that tenant).

The same test run against any server started with the same seed gets the same ids, whatever other tenants
did before it; ``reset(tenant)`` starts that tenant's sequences again. Vendors shape the digest into their
own id formats (hex, UUID, bounded integers).
"""

from __future__ import annotations

import hashlib
from collections import Counter

from sandbox.core.tenants import TenantState


class Ids:
    """Id sequences of one vendor, per tenant and kind."""

    __slots__ = ("_counters", "seed", "vendor")

    def __init__(self, seed: int, vendor: str) -> None:
        self.seed = seed
        self.vendor = vendor
        self._counters: TenantState[Counter[str]] = TenantState(lambda _tenant: Counter())

    def sequence(self, tenant: str | None, kind: str) -> int:
        """The next number (1, 2, ...) of this tenant's ``kind`` sequence."""
        counter = self._counters[tenant]
        counter[kind] += 1
        return counter[kind]

    def digest(self, tenant: str | None, kind: str) -> str:
        """64 hex characters: the next id of ``kind`` for ``tenant``."""
        n = self.sequence(tenant, kind)
        return _sha(f"{self.seed}:{self.vendor}:{tenant or ''}:{kind}:{n}")

    def hex(self, tenant: str | None, kind: str, length: int = 32) -> str:
        return self.digest(tenant, kind)[:length]

    def uuid(self, tenant: str | None, kind: str) -> str:
        """A version-4-shaped UUID string."""
        h = self.digest(tenant, kind)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"

    def number(self, tenant: str | None, kind: str, base: int, span: int) -> int:
        """An integer in ``[base, base + span)``: a start derived from (seed, vendor, tenant, kind), then
        consecutive (as a vendor's auto-increment ids look)."""
        start = self.start(tenant, kind, span)
        return base + (start + self.sequence(tenant, kind) - 1) % span

    def start(self, tenant: str | None, kind: str, span: int) -> int:
        """Where this tenant's ``kind`` numbers start inside a span (no sequence consumed)."""
        return int(_sha(f"{self.seed}:{self.vendor}:{tenant or ''}:{kind}:start")[:16], 16) % span

    def reset(self, tenant: str | None) -> None:
        self._counters.reset(tenant)

    def export_state(self) -> dict[str, Counter[str]]:
        return self._counters.export_state()

    def import_state(self, data: dict[str, Counter[str]]) -> None:
        self._counters.import_state(data)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
