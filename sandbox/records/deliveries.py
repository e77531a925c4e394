"""Deliveries: what would have been sent, one record per recipient, channel and device; and who was skipped.

Like the journal, the log is bounded (oldest evicted first, counted) and its records are compact: plain
string fields for filtering, content and extra details kept as JSON bytes (equal ones sharing one bytes
object) and decoded when read, so a long run of sends neither grows memory without end nor gives the garbage
collector nested dicts to walk.

Users a send or campaign run left out are ``Skipped`` records (``Send.skip``) with a reason from ``REASONS``,
kept in their own log (``Deliveries.skipped``), bounded by count and bytes, reset and snapshotted with the
deliveries. A run records at most ``SKIPPED_PER_RUN`` users one by one; beyond that it counts the rest per
reason and channel in one record with ``user: null`` and ``count``, so the counts per reason stay complete.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import orjson

FILTERS = ("vendor", "tenant", "campaign_id", "user", "channel", "platform")
SKIP_FILTERS = (*FILTERS, "reason")
REASONS: dict[str, str] = {
    "unsubscribed": "unsubscribed from the channel (or from the subscription group it needs)",
    "not_opted_in": "the send asked for opted-in users only; this user is subscribed but did not opt in",
    "no_channel": "nothing to reach the user on the channel: no device of the platform, no email address or "
                  "phone number, or an address marked invalid",
    "dnd": "do not disturb is on for the channel (SMS, WhatsApp)",
    "control_group": "held out in a control group (the campaign's, a custom one or the account's global one)",
    "frequency_capped": "already got as many messages as the frequency cap allows in its window",
    "expired": "the message's time to live had ended when it ran",
    "not_in_audience": "addressed by the call, but outside the segment or audience the send is limited to",
    "not_found": "addressed by the call, but not in the population, and the vendor does not send to unknown users",
}
"""Why a user was skipped: the one vocabulary every vendor records (vendor specifics go in ``detail``)."""
SKIPPED_PER_RUN = 500
"""Users one send or campaign run records one by one; the rest are counted per reason and channel."""
SKIPPED_BYTES = 32 * 1024 * 1024
"""Byte budget of the skipped log (``Skipped.size`` each); the oldest records are evicted beyond it."""
DETAIL_CHARS = 200
"""A longer ``detail`` is cut to this many characters."""
_DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
SHARED_ENCODINGS = 4096
"""Recent encodings (of contents and extra details) a log keeps to hand the same bytes to equal values."""
SHARED_BYTES = 1024
"""Encodings longer than this are never shared (a long content is one send's, counted once per send)."""


class Delivery:
    """One recipient x channel x device a send reached. Made positionally with the fields as kept:
    ``campaign_id`` and ``user`` as text, ``content`` and ``extra`` encoded (``Deliveries.encode``); the
    readable keywords are ``Deliveries.record``'s."""

    __slots__ = ("_content", "_extra", "campaign_id", "channel", "device", "id", "known", "plan", "platform",
                 "settled", "tenant", "time", "user", "vendor")

    def __init__(self, id: int, tenant: str | None, vendor: str, campaign_id: str | None, user: str | None,
                 channel: str, platform: str | None, device: str | None, time: str, known: bool, content: bytes,
                 extra: bytes) -> None:
        self.id = id
        self.tenant = tenant
        self.vendor = vendor
        self.campaign_id = campaign_id
        self.user = user
        """The recipient's identifier as the vendor addressed it (identity, external id, email...)."""
        self.channel = channel
        self.platform = platform
        self.device = device
        self.time = time
        self.known = known
        """False when the recipient is not in the population (recorded, not dropped)."""
        self._content = content
        self._extra = extra
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


class Skipped:
    """A user (or, with ``user`` None, ``count`` users beyond the run's cap) a send left out, and why."""

    __slots__ = ("campaign_id", "channel", "count", "detail", "id", "known", "platform", "reason", "tenant", "time",
                 "user", "vendor")

    def __init__(self, id: int, *, tenant: str | None, vendor: str, campaign_id: str | None, user: str | None,
                 channel: str, platform: str | None, reason: str, detail: str | None, time: str, known: bool,
                 count: int = 1) -> None:
        self.id = id
        self.tenant = tenant
        self.vendor = vendor
        self.campaign_id = campaign_id
        self.user = user
        self.channel = channel
        self.platform = platform
        self.reason = reason
        self.detail = detail
        self.time = time
        self.known = known
        self.count = count

    @property
    def size(self) -> int:
        """What this record weighs in the skipped log's byte budget."""
        return SKIPPED_OVERHEAD + sum(len(v) for v in (self.tenant, self.campaign_id, self.user, self.detail) if v)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tenant": self.tenant, "vendor": self.vendor, "campaign_id": self.campaign_id,
                "user": self.user, "channel": self.channel, "platform": self.platform, "reason": self.reason,
                "detail": self.detail, "time": self.time, "known": self.known, "count": self.count}


SKIPPED_OVERHEAD = 200
"""Bytes a skipped record costs beyond its variable strings (the object and its shared small strings)."""


class SkippedLog:
    """Bounded log of ``Skipped`` records: at most ``limit`` records and ``max_bytes``; oldest evicted, counted."""

    def __init__(self, limit: int = 100_000, max_bytes: int = SKIPPED_BYTES) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._items: deque[Skipped] = deque()
        self._next_id = 1
        self.evicted = 0
        self.bytes = 0

    def record(self, **fields: Any) -> Skipped:
        if fields["reason"] not in REASONS:
            raise ValueError(f"unknown skip reason {fields['reason']!r}; add it to REASONS")
        item = Skipped(self._next_id, **fields)
        self._next_id += 1
        size = item.size
        items = self._items
        while items and (len(items) >= self.limit or self.bytes + size > self.max_bytes):
            self.bytes -= items.popleft().size
            self.evicted += 1
        items.append(item)
        self.bytes += size
        return item

    def query(self, filters: Mapping[str, str]) -> list[Skipped]:
        wanted = [(k, str(v)) for k, v in filters.items() if k in SKIP_FILTERS and v is not None]
        return [s for s in self._items if all(str(getattr(s, k)) == v for k, v in wanted)]

    def __len__(self) -> int:
        return len(self._items)

    def export_state(self) -> dict[str, Any]:
        return {"items": list(self._items), "next_id": self._next_id, "evicted": self.evicted}

    def import_state(self, data: Mapping[str, Any]) -> None:
        self._items = deque(data["items"])
        self._next_id = int(data["next_id"])
        self.evicted = int(data["evicted"])
        self.bytes = sum(s.size for s in self._items)

    def reset(self, tenant: str | None) -> None:
        if tenant is None:
            self._items.clear()
        else:
            self._items = deque(s for s in self._items if s.tenant != tenant)
        self.bytes = sum(s.size for s in self._items)


def reason_counts(items: Iterable[Skipped]) -> dict[str, int]:
    """Users skipped per reason (records beyond a run's cap count for many)."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.reason] = counts.get(item.reason, 0) + item.count
    return counts


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

    __slots__ = ("_campaign_id", "_content", "_details", "_log", "_more", "_skipped", "campaign_id", "extra",
                 "tenant", "time", "vendor")

    def __init__(self, log: Deliveries, tenant: str | None, vendor: str, campaign_id: Any, time: str,
                 extra: Mapping[str, Any] | None = None) -> None:
        self._log = log
        self.tenant = tenant
        self.vendor = vendor
        self.campaign_id = campaign_id
        self._campaign_id = None if campaign_id is None else str(campaign_id)
        self.time = time
        self.extra = dict(extra) if extra else {}
        self._details: bytes | None = None
        """``extra`` encoded, once the run delivers without details of its own."""
        self._content: tuple[Any, bytes] | None = None
        """(the content last delivered, its JSON): every recipient of a send gets the same object."""
        self._skipped = 0
        self._more: dict[tuple[str, str, str | None], Skipped] | None = None

    def deliver(self, target: Target, channel: str, content: Any,
                extra: Mapping[str, Any] | None = None) -> Delivery:
        """Record a delivery of ``content`` to ``target`` on ``channel``; its ``extra`` is the run's with
        ``extra`` over it."""
        user = target.user
        return self.deliver_to(user if user is None or type(user) is str else str(user), target.platform,
                               target.device, target.known, channel, content, extra)

    def deliver_to(self, user: str, platform: str | None, device: str | None, known: bool, channel: str,
                   content: Any, extra: Mapping[str, Any] | None = None) -> Delivery:
        """``deliver`` to a target given field by field, ``user`` as text (what a send to many recipients
        calls: no ``Target`` per recipient)."""
        log = self._log
        encoded = self._content
        if encoded is None or encoded[0] is not content:
            encoded = self._content = (content, log.encode(content))
        if extra:
            details = log.encode({**self.extra, **extra})
        else:
            details = self._details
            if details is None:
                details = self._details = log.encode(self.extra)
        log._next_id += 1
        return log.add(Delivery(log._next_id - 1, self.tenant, self.vendor, self._campaign_id, user, channel,
                                platform, device, self.time, known, encoded[1], details))

    def skip(self, target: Target, channel: str, reason: str, detail: str | None = None) -> None:
        """Record that ``target`` gets nothing on ``channel`` from this run, and why (a ``REASONS`` key; vendor
        specifics in ``detail``). Past ``SKIPPED_PER_RUN`` users the run only counts them."""
        if self._skipped >= SKIPPED_PER_RUN:
            self.skip_many(channel, reason, 1, target.platform, detail)
            return
        self._skipped += 1
        self._log.skipped.record(tenant=self.tenant, vendor=self.vendor, campaign_id=self._campaign(),
                                 user=target.user, channel=channel, platform=target.platform, reason=reason,
                                 detail=_short(detail), time=self.time, known=target.known)

    def skip_many(self, channel: str, reason: str, count: int, platform: str | None = None,
                  detail: str | None = None) -> None:
        """Count ``count`` more users skipped for ``reason`` without naming them (one record per reason,
        channel and platform per run, its ``count`` growing)."""
        if count <= 0:
            return
        if self._more is None:
            self._more = {}
        key = (channel, reason, platform)
        found = self._more.get(key)
        if found is not None:
            found.count += count
            return
        self._more[key] = self._log.skipped.record(
            tenant=self.tenant, vendor=self.vendor, campaign_id=self._campaign(), user=None, channel=channel,
            platform=platform, reason=reason, detail=_short(detail), time=self.time, known=True, count=count)

    def skip_unreached(self, channel: str, counts: Mapping[str, int], rows: Mapping[str, Sequence[int]],
                       target_of: Callable[[int], Target], platform: str | None = None) -> None:
        """Users an audience matched who cannot receive ``channel``: per reason, ``counts`` users of whom
        ``rows`` (population rows, ``target_of`` names them) are recorded one by one while the run has room."""
        for reason, count in counts.items():
            named = list(rows.get(reason, ()))[:self.room]
            for row in named:
                self.skip(target_of(row), channel, reason)
            self.skip_many(channel, reason, count - len(named), platform)

    @property
    def room(self) -> int:
        """How many more users this run records one by one (``skip``) before it only counts them."""
        return max(SKIPPED_PER_RUN - self._skipped, 0)

    def _campaign(self) -> str | None:
        return self._campaign_id


def _short(detail: str | None) -> str | None:
    return detail if detail is None or len(detail) <= DETAIL_CHARS else detail[:DETAIL_CHARS - 1] + "…"


DELIVERY_OVERHEAD = 300
"""Bytes a delivery costs beyond its encoded extra details and content (the object and its small strings)."""


class Deliveries:
    """Bounded in-memory log of deliveries: at most ``limit`` of them and ``max_bytes``, oldest evicted
    (counted); ``reset`` drops them (all, or one tenant's).

    Byte accounting (``bytes``): each record costs ``DELIVERY_OVERHEAD`` plus its encoded extra details, and
    an encoded content is counted once per run of consecutive records holding the same bytes (a send's
    recipients share its content's encoding, so a send's content is counted once for as long as one of its
    records is kept). Equal encodings are shared (``encode``), so the figure is an upper bound of what the
    records hold: a shared extra is counted per record, a content shared by records that are not next to
    each other once per run."""

    def __init__(self, limit: int = 100_000, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._items: deque[Delivery] = deque()
        self._next_id = 1
        self.evicted = 0
        self.bytes = 0
        self._encodings: dict[bytes, bytes] = {}
        """Recent short encodings, each its own key: equal contents and extras share one bytes object."""
        self.skipped = SkippedLog(limit)
        """Users sends left out, with the reason (``Send.skip``)."""

    def send(self, *, tenant: str | None, vendor: str, campaign_id: Any, time: str,
             extra: Mapping[str, Any] | None = None) -> Send:
        """A recorder for one send or campaign run (``Send.deliver`` per target)."""
        return Send(self, tenant, vendor, campaign_id, time, extra)

    def record(self, *, tenant: str | None, vendor: str, campaign_id: Any, user: Any, channel: str,
               platform: str | None = None, device: str | None = None, content: Any = None, time: str = "",
               known: bool = True, extra: Mapping[str, Any] | None = None) -> Delivery:
        """Record one delivery outside a send."""
        return self.add(Delivery(self.next_id(), tenant, vendor, None if campaign_id is None else str(campaign_id),
                                 None if user is None else str(user), channel, platform, device, time, known,
                                 self.encode(content), self.encode(dict(extra or {}))))

    def encode(self, value: Any) -> bytes:
        """``value`` as JSON in a bytes object of its own size; a short one is the same object as the last
        equal encoding's (``SHARED_ENCODINGS`` kept; all forgotten at once when full)."""
        raw = orjson.dumps(value, default=str, option=_DUMP_OPTIONS)
        return self._encodings.get(raw) or self._keep(raw)

    def _keep(self, raw: bytes) -> bytes:
        """A tight copy of orjson's ``raw`` (its output keeps a ~4 KB buffer), shared from now on if short."""
        encoded = bytes(memoryview(raw))
        if len(encoded) <= SHARED_BYTES:
            encodings = self._encodings
            if len(encodings) >= SHARED_ENCODINGS:
                encodings.clear()
            encodings[encoded] = encoded
        return encoded

    def next_id(self) -> int:
        """The id of the next delivery (taken: each call hands out a new one)."""
        self._next_id += 1
        return self._next_id - 1

    def add(self, delivery: Delivery) -> Delivery:
        """Keep ``delivery``, evicting the oldest records beyond the limits (the newest is always kept)."""
        items = self._items
        if items and items[-1]._content is delivery._content:
            self.bytes += DELIVERY_OVERHEAD + len(delivery._extra)
        else:
            self.bytes += DELIVERY_OVERHEAD + len(delivery._extra) + len(delivery._content)
        items.append(delivery)
        kept = len(items)
        while kept > 1 and (kept > self.limit or self.bytes > self.max_bytes):
            old = items.popleft()
            kept -= 1
            content = old._content
            self.bytes -= DELIVERY_OVERHEAD + len(old._extra) + (0 if items[0]._content is content else len(content))
            self.evicted += 1
        return delivery

    def _recount(self) -> None:
        total = 0
        content = None
        for delivery in self._items:
            total += DELIVERY_OVERHEAD + len(delivery._extra)
            if delivery._content is not content:
                content = delivery._content
                total += len(content)
        self.bytes = total

    def query(self, filters: Mapping[str, str]) -> list[Delivery]:
        wanted = [(k, str(v)) for k, v in filters.items() if k in FILTERS and v is not None]
        return [d for d in self._items if all(str(getattr(d, k)) == v for k, v in wanted)]

    def __len__(self) -> int:
        return len(self._items)

    def export_state(self) -> dict[str, Any]:
        return {"items": list(self._items), "next_id": self._next_id, "evicted": self.evicted,
                "skipped": self.skipped.export_state()}

    def import_state(self, data: dict[str, Any]) -> None:
        self._items = deque(data["items"])
        self._next_id = int(data["next_id"])
        self.evicted = int(data["evicted"])
        self._recount()
        if "skipped" in data:  # snapshots written before skipped users were recorded have none
            self.skipped.import_state(data["skipped"])

    def reset(self, tenant: str | None) -> None:
        if tenant is None:
            self._items.clear()
        else:
            self._items = deque(d for d in self._items if d.tenant != tenant)
        self._recount()
        self.skipped.reset(tenant)
