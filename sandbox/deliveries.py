"""Deliveries: what would have been sent, one record per recipient, channel and device."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Delivery:
    id: int
    tenant: str | None
    vendor: str
    campaign_id: str | None
    user: str | None
    """The recipient's identifier as the vendor addressed it (identity, external id, email...)."""
    channel: str
    platform: str | None = None
    device: str | None = None
    content: Any = None
    time: str = ""
    known: bool = True
    """False when the recipient is not in the population (recorded, not dropped)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FILTERS = ("vendor", "tenant", "campaign_id", "user", "channel", "platform")


class Deliveries:
    """In-memory log of deliveries per tenant; ``reset`` drops them (all, or one tenant's)."""

    def __init__(self) -> None:
        self._items: list[Delivery] = []
        self._next_id = 1

    def record(self, **fields: Any) -> Delivery:
        if fields.get("campaign_id") is not None:
            fields["campaign_id"] = str(fields["campaign_id"])
        delivery = Delivery(id=self._next_id, **fields)
        self._next_id += 1
        self._items.append(delivery)
        return delivery

    def query(self, filters: Mapping[str, str]) -> list[Delivery]:
        wanted = {k: v for k, v in filters.items() if k in FILTERS and v is not None}
        return [d for d in self._items
                if all(str(getattr(d, k)) == str(v) for k, v in wanted.items())]

    def __len__(self) -> int:
        return len(self._items)

    def reset(self, tenant: str | None) -> None:
        self._items = [] if tenant is None else [d for d in self._items if d.tenant != tenant]
