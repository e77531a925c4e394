"""Braze id formats (spec §1 "ID formats") over the core's per-tenant id sequences (``sandbox.core.ids``)."""

from __future__ import annotations

from sandbox.core.ids import Ids

VENDOR = "braze"


class BrazeIds:
    """``dispatch_id`` 32 hex, ``schedule_id``/send/request ids UUID-shaped, ``braze_id`` 24 hex; each a
    function of (seed, tenant, kind, that tenant's sequence)."""

    __slots__ = ("core",)

    def __init__(self, seed: int) -> None:
        self.core = Ids(seed, VENDOR)

    def dispatch_id(self, tenant: str | None) -> str:
        return self.core.hex(tenant, "dispatch", 32)

    def schedule_id(self, tenant: str | None) -> str:
        return self.core.uuid(tenant, "schedule")

    def send_id(self, tenant: str | None) -> str:
        return self.core.uuid(tenant, "send")

    def request_id(self, tenant: str | None) -> str:
        return self.core.uuid(tenant, "request")

    def braze_id(self, tenant: str | None) -> str:
        return self.core.hex(tenant, "braze_id", 24)

    def reset(self, tenant: str | None) -> None:
        self.core.reset(tenant)
