"""In-memory columnar index over the stored profiles, the query engine behind audience trees.

Two kinds share one interface: ``Index`` over a list of profile dicts (a tenant's overlay levels, tests, small
tools) and ``FrameIndex`` over the built population's stored columns (``sandbox.population.frame``), which
decodes a profile only when one is asked for. ``TreeMasks`` keeps each index's masks per audience tree.

Rows are positions in the profile list given to ``Index.build``. Everything but the identity lists is built
lazily and cached: attribute columns on first use, the event table, devices and reachability on first
query (``warm()`` builds the common parts up front). ``upsert``/``remove`` update the profile list in O(1)
and drop the derived caches, which are rebuilt on the next query (the audience service never does this to
the shared base: tenants' writes go to small overlay indexes, see ``overlay``). Never calls Faker.

A ``Column`` stores the values of one attribute (or one event property) in exploded form: ``rows[k]`` is
the entity of value ``k`` and ``codes[k]`` its position in ``uniq``; predicates are computed once per
unique value (vectorised) and gathered, so list values (array attributes, ``Items``) cost nothing extra.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
import orjson

from sandbox.population.audience.tree import parse_date
from sandbox.population.frame import ALIASED, Field, Frame
from sandbox.population.frame import Devices as StoredDevices
from sandbox.population.generator import paused_gc

ATTRIBUTE_ALIASES: dict[str, str] = {
    "customer type": "customer_type", "customer_type": "customer_type", "name": "name", "email": "email",
    "phone": "phone", "gender": "gender", "age": "age", "dob": "dob", "date of birth": "dob", "city": "city",
    "country": "country", "language": "language", "locale": "locale", "time zone": "time_zone",
    "timezone": "time_zone", "first name": "first_name", "last name": "last_name",
    "signup date": "signup_date", "lifetime value": "lifetime_value", "last active": "last_active",
    "identity": "identity", "external id": "external_id", "objectid": "objectId",
}
IDENTITY_KEYS: tuple[str, ...] = ("identity", "external_id", "email", "objectId", "internal_id", "phone")
STRUCTURED_FIELDS = frozenset({"properties", "devices", "reachability", "events"})
PLATFORM_CODES: dict[str, int] = {"android": 0, "ios": 1, "web": 2}
PUSH_PLATFORMS: tuple[str, ...] = ("android", "ios")
STATE_CODES: dict[str, int] = {"opted_in": 0, "subscribed": 1, "unsubscribed": 2}
DEFAULT_STATE = "subscribed"
_STR = np.dtypes.StringDType()
_MISSING = object()


@dataclass(slots=True)
class Column:
    """Exploded values of one attribute over ``n`` entities (profiles or event occurrences)."""

    n: int
    rows: np.ndarray  # int64[m]
    codes: np.ndarray  # int64[m]
    uniq: list[Any]
    present: np.ndarray  # bool[n]
    u_num: np.ndarray  # float64[u], NaN when not numeric (numeric strings are parsed)
    u_bool: np.ndarray  # int8[u], 1/0 for booleans and "true"/"false" strings, -1 otherwise
    u_isstr: np.ndarray  # bool[u]
    u_str: np.ndarray  # StringDType[u] ('' when not a string)
    dense: bool = False  # exactly one value per entity (rows == arange(n)): spread is a plain gather
    _u_lower: np.ndarray | None = None
    _u_date: np.ndarray | None = None
    _u_nul: bool | None = None

    @property
    def u_nul(self) -> bool:
        """Whether a distinct string holds NUL (numpy's string routines would ignore it at the end)."""
        if self._u_nul is None:
            self._u_nul = any(isinstance(v, str) and "\0" in v for v in self.uniq)
        return self._u_nul

    @property
    def u_lower(self) -> np.ndarray:
        if self._u_lower is None:
            self._u_lower = np.strings.lower(self.u_str)
        return self._u_lower

    @property
    def u_date(self) -> np.ndarray:
        if self._u_date is None:
            self._u_date = np.array([_date_or_nan(v) for v in self.uniq], dtype=np.float64)
        return self._u_date

    def spread(self, hit: np.ndarray) -> np.ndarray:
        """Per-unique-value booleans -> per-entity mask (an entity matches if any of its values does)."""
        if self.dense:
            return hit[self.codes]
        mask = np.zeros(self.n, dtype=bool)
        if hit.any():
            mask[self.rows[hit[self.codes]]] = True
        return mask


def _date_or_nan(value: Any) -> float:
    parsed = parse_date(value)
    return np.nan if parsed is None else parsed


def _boolean(value: Any) -> int:
    """1/0 for booleans and the strings "true"/"false" (any case), -1 for anything else."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return {"true": 1, "false": 0}.get(value.lower(), -1)
    return -1


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return np.nan
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return np.nan
    return np.nan


def build_column(values: Sequence[Any]) -> Column:
    """Column over ``len(values)`` entities; ``None``/missing, dicts and empty lists count as absent."""
    with paused_gc():  # a collection over a big population heap costs far more than the build itself
        return _build_column(values)


def _build_column(values: Sequence[Any]) -> Column:
    rows: list[int] = []
    keys: list[tuple[type, Any]] = []
    for i, value in enumerate(values):
        if value is None or value is _MISSING or isinstance(value, dict):
            continue
        if isinstance(value, list):
            for item in value:
                if item is not None and not isinstance(item, dict | list):
                    rows.append(i)
                    keys.append((item.__class__, item))
        else:
            rows.append(i)
            keys.append((value.__class__, value))
    interned: dict[tuple[type, Any], int] = {}
    codes = [interned.setdefault(key, len(interned)) for key in keys]
    uniq = [value for _, value in interned]
    return column_of(len(values), np.array(rows, dtype=np.int64), np.array(codes, dtype=np.int64), uniq)


def column_of(n: int, rows: np.ndarray, codes: np.ndarray, uniq: list[Any]) -> Column:
    """A ``Column`` over ``n`` entities from its exploded form (``uniq`` without repeats)."""
    present = np.zeros(n, dtype=bool)
    present[rows] = True
    return Column(
        n=n,
        rows=rows,
        codes=codes,
        uniq=uniq,
        present=present,
        u_num=np.array([_number(v) for v in uniq], dtype=np.float64),
        u_bool=np.array([_boolean(v) for v in uniq], dtype=np.int8),
        u_isstr=np.array([isinstance(v, str) for v in uniq], dtype=bool),
        u_str=np.array([v if isinstance(v, str) else "" for v in uniq], dtype=_STR),
        dense=len(rows) == n and bool(present.all()),
    )


def field_column(stored: Field | None, n: int) -> Column:
    """The ``Column`` of a stored frame field (no field: nobody has a value)."""
    if stored is None:
        return column_of(n, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [])
    return column_of(n, *stored.column_parts(n))


def attribute_values(profiles: Sequence[Mapping[str, Any]], name: str) -> list[Any]:
    """Per profile: the custom property ``name``, else a top-level field of that name, else the field
    its display-name alias points at (``_MISSING`` when none)."""
    top = name if name not in STRUCTURED_FIELDS else "\0"
    alias = ATTRIBUTE_ALIASES.get(name.lower(), "\0")
    missing = _MISSING
    return [props[name] if (props := p.get("properties")) and name in props
            else p[top] if top in p else p.get(alias, missing) for p in profiles]


@dataclass(slots=True)
class EventTable:
    """Occurrences of one event name: profile row, timestamp and props of each occurrence."""

    rows: np.ndarray  # int64[k]
    ts: np.ndarray  # float64[k]
    props: list[Any]
    columns: dict[str, Column]
    stored: Mapping[str, Field] | None = None
    """The frame's fields of these occurrences (``FrameIndex``), read instead of ``props``."""

    def column(self, name: str) -> Column:
        col = self.columns.get(name)
        if col is None:
            if self.stored is not None:
                col = field_column(self.stored.get(name), len(self.rows))
            else:
                col = build_column([p.get(name) if isinstance(p, dict) else None for p in self.props])
            self.columns[name] = col
        return col


@dataclass(slots=True)
class Devices:
    """All devices, sorted by (row, last_active)."""

    rows: np.ndarray  # int64[d]
    platform: np.ndarray  # int8[d], -1 for unknown platforms
    last_active: np.ndarray  # float64[d]
    tokens: Sequence[Any]


@dataclass(slots=True)
class Reach:
    state: np.ndarray  # int8[n] STATE_CODES
    invalid: np.ndarray  # bool[n]
    dnd: np.ndarray  # bool[n]


SMALL_INDEX = 64
"""An index over at most this many profiles builds its event tables with plain lists (numpy's per-call cost
dominates at that size)."""
TREE_MASKS_BYTES = 2**20
"""Memory for the masks of evaluated audience trees an ``Index`` keeps (``TreeMasks``)..."""
FRAME_TREE_MASKS_BYTES = 64 * 2**20
"""...and the built population's (``FrameIndex``)."""


TreeKey = tuple[bytes, float | None]
"""What an audience tree's results are kept under: a digest of its canonical JSON, and the population time."""
_KEY_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _unkeyable(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} has no JSON text of its own")


class TreeMasks:
    """An index's mask per audience tree and population time, most recently used kept within ``limit`` bytes.
    The built population and a tenant's overlay levels never change once built, so an estimate or a campaign
    repeated between a tenant's writes evaluates only the level those writes made. Trees naming segments or
    lists (``member_of``) are not kept: what a segment holds can change."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._masks: OrderedDict[TreeKey, np.ndarray] = OrderedDict()
        self._bytes = 0

    @staticmethod
    def key(tree: Mapping[str, Any], now: float | None) -> TreeKey | None:
        """What a tree's results are kept under (None: not to be kept): not a tree naming a segment, nor one
        whose JSON text another tree shares (a value JSON has no text of its own: NaN and the infinities are
        all ``null``, a datetime would be its ISO string). A digest, not the text: kept keys stay small."""
        try:
            text = orjson.dumps(tree, option=_KEY_OPTIONS, default=_unkeyable)
        except TypeError:
            return None
        if b'"member_of"' in text or b"null" in text:
            return None
        return hashlib.blake2b(text, digest_size=16).digest(), now

    def get(self, key: TreeKey | None, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The mask kept under ``key`` (``TreeMasks.key``; do not modify it), computed once."""
        if key is None:
            return compute()
        found = self._masks.get(key)
        if found is not None:
            self._masks.move_to_end(key)
            return found
        found = compute()
        if found.nbytes <= self.limit:
            self._masks[key] = found
            self._bytes += found.nbytes
            while self._bytes > self.limit:
                self._bytes -= self._masks.popitem(last=False)[1].nbytes
        return found


class Index:
    def __init__(self, profiles: list[dict[str, Any]], reference_ts: float | None = None) -> None:
        self.profiles = profiles
        self.reference_ts = reference_ts
        self.trees = TreeMasks(TREE_MASKS_BYTES)
        self.alive = np.ones(len(profiles), dtype=bool)
        self._columns: dict[str, Column] = {}
        self._events: dict[str, EventTable] | None = None
        self._devices: Devices | None = None
        self._reach: dict[str, Reach] = {}
        self._masks: dict[tuple[Any, ...], Any] = {}  # derived masks and device selections
        self._maps: dict[str, dict[str, int]] = {}

    @classmethod
    def build(cls, profiles: Iterable[dict[str, Any]], reference_ts: float | None = None) -> Index:
        return cls(list(profiles), reference_ts)

    @property
    def n(self) -> int:
        return len(self.profiles)

    def warm(self) -> Index:
        """Build the event table, devices and reachability now rather than on the first query."""
        self.events()
        self.devices()
        for channel in ("push", "webpush", "email", "sms", "whatsapp"):
            self.reach(channel)
        return self

    # -- updates -------------------------------------------------------------------------------------
    def upsert(self, profile: dict[str, Any]) -> int:
        """Replace the profile with the same identity or append it; returns its row. O(1) apart from
        the derived caches, which are dropped and rebuilt on the next query."""
        identity = str(profile.get("identity"))
        row = self.row_of(identity, keys=("identity",))
        if row is None:
            row = len(self.profiles)
            self.profiles.append(profile)
            self.alive = np.append(self.alive, True)
        else:
            self.profiles[row] = profile
        self._invalidate()["identity"][identity] = row
        return row

    def remove(self, identity: str) -> bool:
        row = self.row_of(identity, keys=("identity",))
        if row is None:
            return False
        self.profiles[row] = {}
        self.alive = self.alive.copy()
        self.alive[row] = False
        del self._invalidate()["identity"][identity]
        return True

    def _invalidate(self) -> dict[str, dict[str, int]]:
        """Drop the derived caches; keep the identity map (returned for the caller to update) so a run
        of upserts stays O(1) each."""
        identities = self._identity_map("identity")
        self.trees = TreeMasks(self.trees.limit)
        self._columns = {}
        self._events = None
        self._devices = None
        self._reach = {}
        self._masks = {}
        self._maps = {"identity": identities}
        return self._maps

    # -- identities ----------------------------------------------------------------------------------
    def row_of(self, value: str, keys: Sequence[str] = IDENTITY_KEYS) -> int | None:
        """Row of a user addressed by any identity key (identity, external id, email, objectId...)."""
        for key in keys:
            row = self._identity_map(key).get(value)
            if row is not None:
                return row
        return None

    def _identity_map(self, key: str) -> dict[str, int]:
        mapping = self._maps.get(key)
        if mapping is None:
            mapping = {str(v): i for i, p in enumerate(self.profiles) if (v := p.get(key)) is not None}
            self._maps[key] = mapping
        return mapping

    def identities(self, rows: Iterable[int]) -> list[str]:
        return [str(self.profiles[int(r)].get("identity")) for r in rows]

    def profile(self, row: int) -> dict[str, Any]:
        """The profile at ``row`` (do not modify it)."""
        return self.profiles[row]

    def value(self, row: int, key: str) -> Any:
        """One top-level field of the profile at ``row`` (None when absent)."""
        return self.profiles[row].get(key)

    def reachability(self, row: int, channel: str) -> dict[str, Any]:
        """The ``reachability`` entry of the profile at ``row`` for ``channel`` ({} when it has none)."""
        return ((self.profiles[row].get("reachability") or {}).get(channel)) or {}

    # -- attributes ----------------------------------------------------------------------------------
    def column(self, name: str) -> Column:
        col = self._columns.get(name)
        if col is None:
            col = build_column(attribute_values(self.profiles, name))
            self._columns[name] = col
        return col

    # -- events --------------------------------------------------------------------------------------
    def events(self) -> dict[str, EventTable]:
        if self._events is None:
            self._events = self._build_events()
        return self._events

    def event(self, name: str) -> EventTable | None:
        return self.events().get(name)

    def _build_events(self) -> dict[str, EventTable]:
        if len(self.profiles) <= SMALL_INDEX:
            return self._build_few_events()
        with paused_gc():
            lists = [p.get("events") or () for p in self.profiles]
            flat = [e for evs in lists for e in evs]
            rows = np.repeat(np.arange(len(lists), dtype=np.int64), [len(evs) for evs in lists])
            # map() over C-level getters: several times faster than comprehensions on large heaps
            names = list(map(str, map(itemgetter("name"), flat)))  # an event named 1 is the event "1"
            props = list(map(dict.get, flat, repeat("props")))
            stamps = list(map(itemgetter("ts"), flat))
            try:
                ts = np.array(stamps, dtype=np.float64)
            except (TypeError, ValueError):
                ts = np.array([_date_or_nan(t) for t in stamps], dtype=np.float64)
        distinct = sorted(set(names), key=str)
        codes = np.fromiter(map({n: i for i, n in enumerate(distinct)}.__getitem__, names), dtype=np.int64,
                            count=len(names))
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(distinct) + 1))
        rows, ts = rows[order], ts[order]
        positions = order.tolist()
        out: dict[str, EventTable] = {}
        for code, name in enumerate(distinct):
            lo, hi = int(bounds[code]), int(bounds[code + 1])
            out[str(name)] = EventTable(rows[lo:hi], ts[lo:hi], [props[j] for j in positions[lo:hi]], {})
        return out

    def _build_few_events(self) -> dict[str, EventTable]:
        """``_build_events`` for a handful of profiles (a tenant's newest writes): plain lists, one array per
        event name, the same tables."""
        groups: dict[Any, tuple[list[int], list[Any], list[Any]]] = {}
        for row, profile in enumerate(self.profiles):
            for event in profile.get("events") or ():
                rows, stamps, props = groups.setdefault(str(event["name"]), ([], [], []))
                rows.append(row)
                stamps.append(event["ts"])
                props.append(event.get("props"))
        names = sorted(groups, key=str)
        stamps = [t for name in names for t in groups[name][1]]
        try:  # like _build_events: numbers as they are, unless one stamp is not, then every stamp parsed
            every = np.array(stamps, dtype=np.float64)
        except (TypeError, ValueError):
            every = np.array([_date_or_nan(t) for t in stamps], dtype=np.float64)
        out: dict[str, EventTable] = {}
        start = 0
        for name in names:
            rows, _, props = groups[name]
            out[str(name)] = EventTable(np.array(rows, dtype=np.int64), every[start:start + len(rows)], props, {})
            start += len(rows)
        return out

    def event_counts(self, name: str) -> np.ndarray:
        table = self.event(name)
        if table is None:
            return np.zeros(self.n, dtype=np.int64)
        return np.bincount(table.rows, minlength=self.n)

    def event_first_last(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(first, last) occurrence time per row; NaN for rows that never did the event."""
        first = np.full(self.n, np.nan)
        last = np.full(self.n, np.nan)
        table = self.event(name)
        if table is not None and len(table.rows):
            order = np.lexsort((table.ts, table.rows))
            rows, ts = table.rows[order], table.ts[order]
            starts = np.r_[True, rows[1:] != rows[:-1]]
            ends = np.r_[rows[1:] != rows[:-1], True]
            first[rows[starts]] = ts[starts]
            last[rows[ends]] = ts[ends]
        return first, last

    # -- devices and reachability --------------------------------------------------------------------
    def devices(self) -> Devices:
        if self._devices is None:
            with paused_gc():
                lists = [p.get("devices") or () for p in self.profiles]
                flat = [d for devs in lists for d in devs]
                rows = np.repeat(np.arange(len(lists), dtype=np.int64), [len(devs) for devs in lists])
                codes = PLATFORM_CODES.get
                platform = np.array([codes(d.get("platform"), -1) for d in flat], dtype=np.int8)
                last = np.array([_number(d.get("last_active")) for d in flat], dtype=np.float64)
                tokens = [d.get("token") for d in flat]
            last[np.isnan(last)] = -np.inf
            order = np.lexsort((last, rows))
            picked = [tokens[j] for j in order.tolist()]
            self._devices = Devices(rows[order], platform[order], last[order], picked)
        return self._devices

    def has_device(self, platforms: Iterable[str]) -> np.ndarray:
        key = ("has_device", *sorted(set(platforms)))
        mask = self._masks.get(key)
        if mask is None:
            _, rows = self.device_selection(key[1:], last_only=False)
            mask = np.zeros(self.n, dtype=bool)
            mask[rows] = True
            self._masks[key] = mask
        return mask

    def device_selection(self, platforms: Iterable[str], *, last_only: bool) -> tuple[np.ndarray, np.ndarray]:
        """(positions in ``devices()``, their rows) of the devices on ``platforms``; with ``last_only`` just
        each row's most recently active one (ties: the device listed last)."""
        key = ("devices", last_only, *sorted(set(platforms)))
        cached = self._masks.get(key)
        if cached is None:
            devices = self.devices()
            wanted = np.zeros(len(PLATFORM_CODES) + 1, dtype=bool)  # by platform code + 1 (-1: unknown)
            wanted[[PLATFORM_CODES[p] + 1 for p in key[2:]]] = True
            positions = np.flatnonzero(wanted[devices.platform.astype(np.intp) + 1])
            rows = devices.rows[positions]
            if last_only and len(positions):
                last_of_row = np.empty(len(rows), dtype=bool)  # devices are sorted by (row, last_active)
                np.not_equal(rows[1:], rows[:-1], out=last_of_row[:-1])
                last_of_row[-1] = True
                positions, rows = positions[last_of_row], rows[last_of_row]
            cached = (positions, rows)
            self._masks[key] = cached
        return cached

    def last_device_platform(self, platforms: Iterable[str]) -> np.ndarray:
        """int8[n]: per row, the platform code of its most recently active device on ``platforms`` (-1 when
        it has none): the device a campaign reaches when it reaches one device per user. Cached."""
        key = ("last_device_platform", *sorted(set(platforms)))
        found = self._masks.get(key)
        if found is None:
            positions, rows = self.device_selection(key[1:], last_only=True)
            found = np.full(self.n, -1, dtype=np.int8)
            found[rows] = self.devices().platform[positions]
            self._masks[key] = found
        return found

    def reach(self, channel: str) -> Reach:
        reach = self._reach.get(channel)
        if reach is None:
            empty: dict[str, Any] = {}
            n = self.n
            with paused_gc():
                channels = map(dict.get, self.profiles, repeat("reachability"), repeat(empty))
                entries = [e or empty for e in map(dict.get, (c or empty for c in channels), repeat(channel))]
                states = map(dict.get, entries, repeat("state"), repeat(DEFAULT_STATE))
                reach = Reach(
                    np.fromiter(map(STATE_CODES.get, states, repeat(STATE_CODES[DEFAULT_STATE])), np.int8, n),
                    np.fromiter(map(bool, map(dict.get, entries, repeat("invalid"))), bool, n),
                    np.fromiter(map(bool, map(dict.get, entries, repeat("dnd"))), bool, n),
                )
            self._reach[channel] = reach
        return reach

    def has_contact(self, field: str) -> np.ndarray:
        """Rows with a non-empty string in ``field`` (email, phone)."""
        mask = self._masks.get(("contact", field))
        if mask is None:
            mask = np.array([bool(p.get(field)) and isinstance(p.get(field), str) for p in self.profiles],
                            dtype=bool)
            self._masks[("contact", field)] = mask
        return mask

    def reachable(self, channel: str, platforms: Iterable[str] | None = None) -> np.ndarray:
        """Who can receive ``channel`` (rules in ``sandbox.population.audience.tree``'s docstring). Cached: do not
        modify the returned array."""
        key = ("reachable", channel, *sorted(set(platforms))) if platforms else ("reachable", channel)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._reachable(channel, platforms)
            self._masks[key] = mask
        return mask

    def _reachable(self, channel: str, platforms: Iterable[str] | None) -> np.ndarray:
        reach = self.reach(channel)
        subscribed = reach.state != STATE_CODES["unsubscribed"]
        if channel == "push":
            wanted = [p for p in (platforms or PUSH_PLATFORMS) if p in PUSH_PLATFORMS]
            return subscribed & self.has_device(wanted) & self.alive
        if channel == "webpush":
            wanted = [p for p in (platforms or ("web",)) if p == "web"]
            return subscribed & self.has_device(wanted) & self.alive
        if channel == "email":
            return subscribed & ~reach.invalid & self.has_contact("email") & self.alive
        if channel in ("sms", "whatsapp"):
            return subscribed & ~reach.invalid & ~reach.dnd & self.has_contact("phone") & self.alive
        raise ValueError(f"unknown channel {channel!r}")


DECODED_MAX = 4096
"""Decoded profiles a ``FrameIndex`` keeps (about 5 KB each)."""
FOUND_MAX = 16384
"""Identifier lookups a ``FrameIndex`` keeps."""
_UNSEEN = object()


class FrameIndex(Index):
    """The index over the built population's columns (``sandbox.population.frame.Frame``): the same queries
    as ``Index`` without a profile dict per user; profiles are decoded when asked for. Read-only: tenants'
    writes live in their overlays."""

    def __init__(self, frame: Frame, reference_ts: float | None = None) -> None:
        super().__init__([], reference_ts)
        self.trees = TreeMasks(FRAME_TREE_MASKS_BYTES)
        self.frame = frame
        self.alive = np.ones(frame.n, dtype=bool)
        self._decoded: dict[int, dict[str, Any]] = {}
        """The most recently decoded profiles (a send addresses the same users again and again)."""
        self._found: dict[tuple[str, str], int | None] = {}
        """The most recent lookups (key, value) -> row (None: nobody), for the same reason."""

    @property
    def n(self) -> int:
        return self.frame.n

    def upsert(self, profile: dict[str, Any]) -> int:
        raise TypeError("the built population is read-only: write through a tenant's overlay")

    def remove(self, identity: str) -> bool:
        raise TypeError("the built population is read-only: write through a tenant's overlay")

    def row_of(self, value: str, keys: Sequence[str] = IDENTITY_KEYS) -> int | None:
        found = self._found
        for key in keys:
            row = found.get((key, value), _UNSEEN)
            if row is _UNSEEN:
                if len(found) >= FOUND_MAX:
                    del found[next(iter(found))]
                row = found[(key, value)] = self.frame.lookup(key, value)
            if row is not None:
                return row
        return None

    def identities(self, rows: Iterable[int]) -> list[str]:
        return [self.frame.value(int(r), "identity") for r in rows]

    def profile(self, row: int) -> dict[str, Any]:
        found = self._decoded.get(row)
        if found is None:
            if len(self._decoded) >= DECODED_MAX:
                del self._decoded[next(iter(self._decoded))]
            found = self._decoded[row] = self.frame.profile(row)
        return found

    def value(self, row: int, key: str) -> Any:
        found = self._decoded.get(row)
        return self.frame.value(row, key) if found is None else found.get(key)

    def reachability(self, row: int, channel: str) -> dict[str, Any]:
        return self.frame.reachability(row, channel)

    def column(self, name: str) -> Column:
        col = self._columns.get(name)
        if col is None:
            col = self._columns[name] = self._column(name)
        return col

    def _column(self, name: str) -> Column:
        fields = self.frame.fields
        prop = self.frame.properties.get(name)
        top = None if name in STRUCTURED_FIELDS else fields.get(ALIASED.get(name, name))
        if top is None:
            alias = ATTRIBUTE_ALIASES.get(name.lower())
            top = None if alias is None else fields.get(ALIASED.get(alias, alias))
        if prop is not None and top is not None:  # a custom property named like a field: per user, it wins
            return build_column([prop.get(row, top.get(row)) for row in range(self.n)])
        return field_column(prop if prop is not None else top, self.n)

    def _build_events(self) -> dict[str, EventTable]:
        events = self.frame.events
        codes = np.asarray(events.name)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(events.names) + 1))
        rows = np.asarray(events.rows, dtype=np.int64)[order]
        ts = np.asarray(events.ts, dtype=np.float64)[order]
        out: dict[str, EventTable] = {}
        for code, name in enumerate(events.names):
            lo, hi = int(bounds[code]), int(bounds[code + 1])
            if hi > lo:
                out[name] = EventTable(rows[lo:hi], ts[lo:hi], [], {}, events.props.get(name, {}))
        return out

    def devices(self) -> Devices:
        if self._devices is None:
            stored = self.frame.devices
            rows = np.asarray(stored.rows, dtype=np.int64)
            last = np.asarray(stored.last_active, dtype=np.float64)
            order = np.lexsort((last, rows))
            self._devices = Devices(rows[order], np.asarray(stored.platform)[order], last[order],
                                    _Tokens(stored, order))
        return self._devices

    def reach(self, channel: str) -> Reach:
        reach = self._reach.get(channel)
        if reach is None:
            stored = self.frame.reach
            if channel in stored.state:
                reach = Reach(np.asarray(stored.state[channel]), np.asarray(stored.invalid[channel]),
                              np.asarray(stored.dnd[channel]))
            else:
                n = self.n
                reach = Reach(np.full(n, STATE_CODES[DEFAULT_STATE], dtype=np.int8), np.zeros(n, dtype=bool),
                              np.zeros(n, dtype=bool))
            self._reach[channel] = reach
        return reach

    def has_contact(self, field: str) -> np.ndarray:
        mask = self._masks.get(("contact", field))
        if mask is None:
            stored = self.frame.fields.get(ALIASED.get(field, field))
            if stored is None:
                mask = np.zeros(self.n, dtype=bool)
            elif stored.kind == "text":
                mask = np.asarray(stored.data) != b""
            else:
                mask = np.array([isinstance(v := stored.get(row), str) and bool(v) for row in range(self.n)],
                                dtype=bool)
            self._masks[("contact", field)] = mask
        return mask


class _Tokens(Sequence[str]):
    """Push tokens of the frame's devices in ``order``, derived when read (a list would cost ~100 bytes a
    device)."""

    def __init__(self, stored: StoredDevices, order: np.ndarray) -> None:
        self.stored = stored
        self.order = order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, position: Any) -> Any:
        if isinstance(position, slice):
            return self.stored.tokens(self.order[position])
        return self.stored.token(int(self.order[position]))
