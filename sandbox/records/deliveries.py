"""Deliveries: what would have been sent, one record per recipient, channel and device.

Like the journal, the log is bounded (oldest evicted first, counted) and its records are compact: plain
string fields for filtering, content and extra details kept as JSON bytes and decoded when read, so a long
run of sends neither grows memory without end nor gives the garbage collector nested dicts to walk.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

FILTERS = ("vendor", "tenant", "campaign_id", "user", "channel", "platform")
_DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _dump(value: Any) -> bytes:
    # orjson's output keeps a ~4 KB buffer; a tight copy is what makes a record compact
    return bytes(memoryview(orjson.dumps(value, default=str, option=_DUMP_OPTIONS)))


class Delivery:
    __slots__ = ("_content", "_extra", "campaign_id", "channel", "device", "id", "known", "plan", "platform",
                 "settled", "tenant", "time", "user", "vendor")

    def __init__(self, id: int, *, tenant: str | None, vendor: str, campaign_id: Any, user: Any, channel: str,
                 platform: str | None = None, device: str | None = None, content: Any = None, time: str = "",
                 known: bool = True, extra: Mapping[str, Any] | None = None,
                 content_json: bytes | None = None) -> None:
        """``content_json``: ``content`` already encoded (a send encodes its content once for every recipient)."""
        self.id = id
        self.tenant = tenant
        self.vendor = vendor
        self.campaign_id = None if campaign_id is None else str(campaign_id)
        self.user = None if user is None else str(user)
        """The recipient's identifier as the vendor addressed it (identity, external id, email...)."""
        self.channel = channel
        self.platform = platform
        self.device = device
        self.time = time
        self.known = known
        """False when the recipient is not in the population (recorded, not dropped)."""
        self._content = _dump(content) if content_json is None else content_json
        self._extra = _dump(extra if type(extra) is dict else dict(extra or {}))
        self.plan: tuple[tuple[str, float], ...] | None = None
        """Its lifecycle (``sandbox.records.engagement``), computed on first read."""
        self.settled = 0
        """How many steps of ``plan`` were already handed to the vendor (``Engagement.due``)."""

    @property
    def content(self) -> Any:
        return orjson.loads(self._content)

    @property
    def extra(self) -> dict[str, Any]:
        return orjson.loads(self._extra)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tenant": self.tenant, "vendor": self.vendor, "campaign_id": self.campaign_id,
                "user": self.user, "channel": self.channel, "platform": self.platform, "device": self.device,
                "content": self.content, "time": self.time, "known": self.known, "extra": self.extra}


class Target(NamedTuple):
    """One recipient x channel x device a vendor decided to reach: the user as the vendor addressed them,
    the device (push) and whether the population knows them (a tuple: made per recipient, on the send path)."""

    user: str
    platform: str | None = None
    device: str | None = None
    known: bool = True


class Send:
    """The one delivery recorder vendors call: one send or campaign run of one tenant, at one time. Every
    ``deliver`` records a delivery with the run's tenant, vendor, campaign, time and base ``extra``."""

    __slots__ = ("_content", "_log", "campaign_id", "extra", "tenant", "time", "vendor")

    def __init__(self, log: Deliveries, *, tenant: str | None, vendor: str, campaign_id: Any, time: str,
                 extra: Mapping[str, Any] | None = None) -> None:
        self._log = log
        self.tenant = tenant
        self.vendor = vendor
        self.campaign_id = campaign_id
        self.time = time
        self.extra = dict(extra or {})
        self._content: tuple[Any, bytes] | None = None
        """(the content last delivered, its JSON): every recipient of a send gets the same object."""

    def deliver(self, target: Target, channel: str, content: Any,
                extra: Mapping[str, Any] | None = None) -> Delivery:
        encoded = self._content
        if encoded is None or encoded[0] is not content:
            encoded = self._content = (content, _dump(content))
        log = self._log
        return log.add(Delivery(log.next_id(), tenant=self.tenant, vendor=self.vendor, campaign_id=self.campaign_id,
                                user=target.user, channel=channel, platform=target.platform, device=target.device,
                                time=self.time, known=target.known, extra={**self.extra, **extra} if extra else
                                self.extra, content_json=encoded[1]))


class Deliveries:
    """Bounded in-memory log of deliveries; ``reset`` drops them (all, or one tenant's)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._items: deque[Delivery] = deque(maxlen=limit)
        self._next_id = 1
        self.evicted = 0

    def send(self, *, tenant: str | None, vendor: str, campaign_id: Any, time: str,
             extra: Mapping[str, Any] | None = None) -> Send:
        """A recorder for one send or campaign run (``Send.deliver`` per target)."""
        return Send(self, tenant=tenant, vendor=vendor, campaign_id=campaign_id, time=time, extra=extra)

    def record(self, **fields: Any) -> Delivery:
        return self.add(Delivery(self.next_id(), **fields))

    def next_id(self) -> int:
        """The id of the next delivery (taken: each call hands out a new one)."""
        self._next_id += 1
        return self._next_id - 1

    def add(self, delivery: Delivery) -> Delivery:
        if len(self._items) == self.limit:
            self.evicted += 1
        self._items.append(delivery)
        return delivery

    def query(self, filters: Mapping[str, str]) -> list[Delivery]:
        wanted = [(k, str(v)) for k, v in filters.items() if k in FILTERS and v is not None]
        return [d for d in self._items if all(str(getattr(d, k)) == v for k, v in wanted)]

    def __len__(self) -> int:
        return len(self._items)

    def export_state(self) -> dict[str, Any]:
        return {"items": list(self._items), "next_id": self._next_id, "evicted": self.evicted}

    def import_state(self, data: dict[str, Any]) -> None:
        self._items = deque(data["items"], maxlen=self.limit)
        self._next_id = int(data["next_id"])
        self.evicted = int(data["evicted"])

    def reset(self, tenant: str | None) -> None:
        if tenant is None:
            self._items.clear()
        else:
            self._items = deque((d for d in self._items if d.tenant != tenant), maxlen=self.limit)
