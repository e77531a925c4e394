"""The built population as columns: numpy arrays instead of a Python dict per user.

A million users as dicts cost 8 to 9 GB; as columns they cost a few hundred MB, and a saved frame is
memory-mapped on the next start instead of parsed. Every user's profile dict is decoded on demand
(``Frame.profile``), identical in shape to what the generator documents, so nothing outside the population
package sees the difference. The audience index (``sandbox.population.audience.index.FrameIndex``) reads
its columns straight from here.

A ``Field`` holds one attribute over ``n`` entities (users, or the occurrences of one event):

- ``code``: ``data`` int32 codes into ``values`` (-1: absent): names, cities, tiers, choices, dates;
- ``text``: ``data`` an ASCII bytes array (``S<k>``): identities, emails, phones, hex ids;
- ``int`` / ``float``: ``data`` the numbers, ``present`` where they exist;
- ``stamp``: ``data`` epoch seconds, read as ISO 8601 ``...Z`` strings;
- ``list``: ``data`` int32 codes into ``values`` of every item, ``rows`` (sorted) the entity of each item,
  ``present`` which entities have the list (possibly empty).

``Frame.save(directory)`` writes one ``.npy`` per array and ``frame.json`` for the rest; ``Frame.load``
maps the arrays read-only, so a warm start reads only what queries touch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

FRAME_FILE = "frame.json"
FRAME_FORMAT = 2
CHANNELS: tuple[str, ...] = ("push", "webpush", "email", "sms", "whatsapp")
PLATFORMS: tuple[str, ...] = ("android", "ios", "web")
STATES: tuple[str, ...] = ("opted_in", "subscribed", "unsubscribed")
"""Subscription states by code (the order of ``sandbox.population.audience.index.STATE_CODES``)."""
TOP_FIELDS: tuple[str, ...] = (
    "identity", "external_id", "objectId", "internal_id", "email", "phone", "name", "first_name", "last_name",
    "gender", "dob", "age", "city", "country", "language", "locale", "time_zone", "customer_type",
    "signup_date", "lifetime_value", "last_active")
"""The scalar fields of a generated profile, in the order the profile dict lists them."""
ALIASED = {"external_id": "identity"}
"""Fields stored once and read under two names (a generated user's external id is their identity)."""


ABSENT = object()
"""What ``Field.reader`` returns for an entity without a value."""


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def isos(stamps: np.ndarray) -> list[str]:
    """ISO 8601 ``...Z`` strings of many epoch seconds at once."""
    text = np.datetime_as_string(np.asarray(stamps, dtype=np.int64).astype("datetime64[s]"), unit="s")
    return [f"{t}Z" for t in text.tolist()]


@dataclass(slots=True)
class Field:
    kind: str
    data: np.ndarray
    values: list[Any] = field(default_factory=list)
    present: np.ndarray | None = None
    rows: np.ndarray | None = None
    _reader: Any = field(default=None, repr=False, compare=False)

    # -- one entity ----------------------------------------------------------------------------------
    def value(self, i: int) -> Any:
        kind = self.kind
        if kind == "code":
            return self.values[self.data.item(i)]
        if kind == "text":
            return self.data.item(i).decode()
        if kind == "int":  # ``item``: the Python number, without a numpy scalar in between
            return int(self.data.item(i))
        if kind == "float":
            return float(self.data.item(i))
        if kind == "stamp":
            return iso(int(self.data.item(i)))
        assert self.rows is not None
        rows = self.rows
        lo, hi = rows.searchsorted(np.array((i, i + 1), dtype=rows.dtype)).tolist()
        return [self.values[c] for c in self.data[lo:hi].tolist()]

    def get(self, i: int, default: Any = None) -> Any:
        """The value of entity ``i``, ``default`` when it has none (one read for coded fields)."""
        if self.kind == "code":
            code = self.data.item(i)
            return default if code < 0 else self.values[code]
        return self.value(i) if self.present is None or self.present.item(i) else default

    def reader(self) -> Callable[[int], Any]:
        """``lambda i: self.get(i, ABSENT)`` without the dispatch on ``kind`` per call (``Frame.profile``)."""
        if self._reader is None:
            self._reader = self._make_reader()
        return self._reader  # type: ignore[no-any-return]

    def _make_reader(self) -> Callable[[int], Any]:
        item, values, present = self.data.item, self.values, self.present
        if self.kind == "code":
            return lambda i: ABSENT if (code := item(i)) < 0 else values[code]
        get = self.value
        if present is None:
            return get
        has = present.item
        return lambda i: get(i) if has(i) else ABSENT

    def permuted(self, order: np.ndarray) -> Field:
        """The same field over the entities in ``order`` (entity ``j`` of the result is ``order[j]``)."""
        present = None if self.present is None else self.present[order]
        if self.kind != "list":
            return Field(self.kind, self.data[order], self.values, present)
        assert self.rows is not None
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        rows = position[self.rows]
        sort = np.argsort(rows, kind="stable")
        return Field("list", self.data[sort], self.values, present, rows[sort].astype(np.int32))

    # -- as an index column ----------------------------------------------------------------------------
    def column_parts(self, n: int) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        """(rows, codes, distinct values) in the exploded form of ``sandbox.population.audience.index.Column``
        (absent entities have no rows)."""
        kind = self.kind
        if kind in ("code", "list"):
            codes = np.asarray(self.data, dtype=np.int64)
            if kind == "list":
                assert self.rows is not None
                return np.asarray(self.rows, dtype=np.int64), codes, self.values
            rows = np.flatnonzero(codes >= 0) if (codes < 0).any() else np.arange(n, dtype=np.int64)
            return rows, codes[rows], self.values
        rows = np.arange(n, dtype=np.int64) if self.present is None else np.flatnonzero(self.present)
        data = np.asarray(self.data)[rows]
        uniq, codes = np.unique(data, return_inverse=True)
        if kind == "text":
            values: list[Any] = [v.decode() for v in uniq.tolist()]
        elif kind == "stamp":
            values = isos(uniq)
        elif kind == "float":
            values = [float(v) for v in uniq.tolist()]
        else:
            values = [int(v) for v in uniq.tolist()]
        return rows, codes.astype(np.int64), values

    # -- persistence -----------------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        out = {"data": self.data}
        if self.present is not None:
            out["present"] = self.present
        if self.rows is not None:
            out["rows"] = self.rows
        return out

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "values": self.values}


@dataclass(slots=True)
class Events:
    """Every occurrence, sorted by (user, time): ``start[u]:start[u+1]`` are user ``u``'s. Occurrences of one
    event name form its group (in this same order); ``rank`` is an occurrence's position in its group and
    ``props[name][prop]`` is a ``Field`` over the group."""

    rows: np.ndarray  # int32[E]
    ts: np.ndarray  # int64[E]
    name: np.ndarray  # int16[E], codes into names
    rank: np.ndarray  # int32[E]
    start: np.ndarray  # int64[n+1]
    names: list[str]
    props: dict[str, dict[str, Field]]


@dataclass(slots=True)
class Devices:
    """Every device, grouped by user in listing order: ``start[u]:start[u+1]`` are user ``u``'s."""

    rows: np.ndarray  # int32[D]
    platform: np.ndarray  # int8[D], codes into PLATFORMS
    last_active: np.ndarray  # int64[D]
    seed: np.ndarray  # uint64[D]: the token is derived from it (``token``)
    start: np.ndarray  # int64[n+1]

    def token(self, position: int) -> str:
        return token(int(self.platform[position]), int(self.seed[position]))

    def tokens(self, positions: Sequence[int] | np.ndarray) -> list[str]:
        platform, seed = self.platform, self.seed
        return [token(int(platform[p]), int(seed[p])) for p in np.asarray(positions).tolist()]


def token(platform: int, seed: int) -> str:
    """A device's push token, derived from its seed in the shape of the platform's real tokens (FCM, APNs
    hex, a web push endpoint)."""
    digest = hashlib.blake2b(seed.to_bytes(8, "little"), digest_size=64).hexdigest()
    if platform == 0:
        return f"{digest[:16]}:APA91b{digest[16:106]}"
    if platform == 1:
        return digest[:64]
    return f"https://push.example.net/wp/{digest[:48]}"


@dataclass(slots=True)
class Reach:
    """Per channel: subscription state codes (``STATES``), invalid and do-not-disturb flags per user."""

    state: dict[str, np.ndarray]
    invalid: dict[str, np.ndarray]
    dnd: dict[str, np.ndarray]


@dataclass(slots=True)
class Frame:
    n: int
    fields: dict[str, Field]
    properties: dict[str, Field]
    devices: Devices
    reach: Reach
    events: Events
    sorted_by: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Text field -> (row order sorting its values, the values in that order), for ``lookup``; none needed
    when the field is sorted already."""
    _readers: Any = field(default=None, repr=False, compare=False)
    """``_make_readers``, made on the first ``profile``."""

    # -- profiles --------------------------------------------------------------------------------------
    def profile(self, row: int) -> dict[str, Any]:
        """User ``row`` as a profile dict (fresh: the caller may keep or change it)."""
        out: dict[str, Any] = {}
        readers = self._readers
        if readers is None:
            readers = self._readers = self._make_readers()
        top, properties, events_of = readers
        for name, read in top:
            if (value := read(row)) is not ABSENT:
                out[name] = value
        out["properties"] = {name: value for name, read in properties if (value := read(row)) is not ABSENT}
        devices = self.devices
        lo, hi = devices.start[row:row + 2].tolist()
        out["devices"] = [{"platform": PLATFORMS[platform], "token": token(platform, seed), "last_active": last}
                          for platform, seed, last in zip(devices.platform[lo:hi].tolist(),
                                                          devices.seed[lo:hi].tolist(),
                                                          devices.last_active[lo:hi].tolist(), strict=True)]
        out["reachability"] = {channel: self.reachability(row, channel) for channel in self.reach.state}
        events = self.events
        lo, hi = events.start[row:row + 2].tolist()
        occurred = []
        names = events.names
        for code, rank, ts in zip(events.name[lo:hi].tolist(), events.rank[lo:hi].tolist(),
                                  events.ts[lo:hi].tolist(), strict=True):
            name = names[code]
            occurred.append({"name": name, "ts": ts, "props": {
                key: value for key, read in events_of[name] if (value := read(rank)) is not ABSENT}})
        out["events"] = occurred
        return out

    def _make_readers(self) -> tuple[list[tuple[str, Callable[[int], Any]]], list[tuple[str, Callable[[int], Any]]],
                                     dict[str, list[tuple[str, Callable[[int], Any]]]]]:
        """(top fields, properties, each event's properties) as (name, ``Field.reader``), in profile order."""
        top = [(name, stored.reader()) for name in TOP_FIELDS
               if (stored := self.fields.get(ALIASED.get(name, name))) is not None]
        events = {name: [(key, prop.reader()) for key, prop in props.items()]
                  for name, props in self.events.props.items()}
        return top, [(name, prop.reader()) for name, prop in self.properties.items()], events

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self.profile(row) for row in range(self.n))

    def reachability(self, row: int, channel: str) -> dict[str, Any]:
        """User ``row``'s ``reachability`` entry for ``channel`` ({} for a channel the population has not)."""
        reach = self.reach
        if channel not in reach.state:
            return {}
        return {"state": STATES[int(reach.state[channel].item(row))], "invalid": bool(reach.invalid[channel].item(row)),
                "dnd": bool(reach.dnd[channel].item(row))}

    def value(self, row: int, name: str) -> Any:
        """One top-level field of user ``row`` (None when absent), without decoding the whole profile."""
        stored = self.fields.get(ALIASED.get(name, name))
        return None if stored is None else stored.get(row)

    # -- identities ------------------------------------------------------------------------------------
    def lookup(self, key: str, value: str) -> int | None:
        """Row of the first user whose text field ``key`` equals ``value`` (binary search, no dict)."""
        stored = self.fields.get(ALIASED.get(key, key))
        if stored is None or stored.kind != "text":
            return None
        try:
            wanted = value.encode("ascii")
        except UnicodeEncodeError:
            return None
        data = stored.data
        if len(wanted) > data.dtype.itemsize:  # longer than any stored value (and numpy would copy the column)
            return None
        by = self.sorted_by.get(ALIASED.get(key, key))
        key_array = np.array(wanted, dtype=data.dtype)
        if by is None:
            i = int(data.searchsorted(key_array))
            return i if i < self.n and data[i] == wanted else None
        order, values = by
        i = int(values.searchsorted(key_array))
        return int(order[i]) if i < self.n and values[i] == wanted else None

    def sort_identities(self) -> None:
        """Order every text field for ``lookup`` (stable: among equal values the first row wins)."""
        for name, stored in self.fields.items():
            if stored.kind == "text" and name not in self.sorted_by:
                data = stored.data
                if len(data) > 1 and not bool(np.all(data[1:] >= data[:-1])):
                    order = np.argsort(data, kind="stable").astype(np.int32)
                    self.sorted_by[name] = (order, data[order])

    # -- persistence -----------------------------------------------------------------------------------
    def save(self, directory: str | os.PathLike[str], meta: Mapping[str, Any]) -> None:
        """Write the frame into ``directory`` (replaced atomically: built in a sibling, then renamed)."""
        target = Path(directory)
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        arrays: dict[str, np.ndarray] = {}
        layout: dict[str, Any] = {"format": FRAME_FORMAT, "meta": dict(meta), "n": self.n, "fields": {},
                                  "properties": {}, "event_names": self.events.names, "event_props": {},
                                  "channels": list(self.reach.state), "sorted_by": list(self.sorted_by)}
        for group, fields in (("fields", self.fields), ("properties", self.properties)):
            for i, (name, stored) in enumerate(fields.items()):
                layout[group][name] = stored.describe()
                arrays.update({f"{group}.{i}.{k}": v for k, v in stored.arrays().items()})
        for e, name in enumerate(self.events.names):
            layout["event_props"][name] = {}
            for i, (prop, stored) in enumerate(self.events.props[name].items()):
                layout["event_props"][name][prop] = stored.describe()
                arrays.update({f"event.{e}.{i}.{k}": v for k, v in stored.arrays().items()})
        for key in ("rows", "ts", "name", "rank", "start"):
            arrays[f"events.{key}"] = getattr(self.events, key)
        for key in ("rows", "platform", "last_active", "seed", "start"):
            arrays[f"devices.{key}"] = getattr(self.devices, key)
        for c, channel in enumerate(self.reach.state):
            arrays[f"reach.{c}.state"] = self.reach.state[channel]
            arrays[f"reach.{c}.invalid"] = self.reach.invalid[channel]
            arrays[f"reach.{c}.dnd"] = self.reach.dnd[channel]
        for name, (order, values) in self.sorted_by.items():
            arrays[f"sorted.{name}.order"] = order
            arrays[f"sorted.{name}.values"] = values
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        (tmp / FRAME_FILE).write_bytes(orjson.dumps(layout))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> tuple[Frame, dict[str, Any]]:
        """(frame, meta) of a saved frame, its arrays memory-mapped read-only."""
        base = Path(directory)
        layout = orjson.loads((base / FRAME_FILE).read_bytes())
        if layout.get("format") != FRAME_FORMAT:
            raise ValueError(f"{base}: frame format {layout.get('format')!r}, expected {FRAME_FORMAT}")

        def array(name: str) -> np.ndarray:
            # a plain ndarray over the mapping: numpy.memmap's own __getitem__ costs ~0.5 µs a read
            return np.load(base / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)

        def optional(name: str) -> np.ndarray | None:
            return array(name) if (base / f"{name}.npy").is_file() else None

        def read_field(prefix: str, described: Mapping[str, Any]) -> Field:
            return Field(described["kind"], array(f"{prefix}.data"), list(described["values"]),
                         optional(f"{prefix}.present"), optional(f"{prefix}.rows"))

        fields = {name: read_field(f"fields.{i}", d) for i, (name, d) in enumerate(layout["fields"].items())}
        properties = {name: read_field(f"properties.{i}", d)
                      for i, (name, d) in enumerate(layout["properties"].items())}
        names = list(layout["event_names"])
        props = {name: {prop: read_field(f"event.{e}.{i}", d)
                        for i, (prop, d) in enumerate(layout["event_props"][name].items())}
                 for e, name in enumerate(names)}
        events = Events(*(array(f"events.{k}") for k in ("rows", "ts", "name", "rank", "start")), names, props)
        devices = Devices(*(array(f"devices.{k}") for k in ("rows", "platform", "last_active", "seed", "start")))
        channels = list(layout["channels"])
        reach = Reach({ch: array(f"reach.{c}.state") for c, ch in enumerate(channels)},
                      {ch: array(f"reach.{c}.invalid") for c, ch in enumerate(channels)},
                      {ch: array(f"reach.{c}.dnd") for c, ch in enumerate(channels)})
        sorted_by = {name: (array(f"sorted.{name}.order"), array(f"sorted.{name}.values"))
                     for name in layout["sorted_by"]}
        frame = cls(int(layout["n"]), fields, properties, devices, reach, events, sorted_by)
        return frame, dict(layout["meta"])


def starts(rows: np.ndarray, n: int) -> np.ndarray:
    """``start`` offsets (int64[n+1]) of entities in ``rows`` (sorted)."""
    return np.searchsorted(rows, np.arange(n + 1), side="left").astype(np.int64)


def saved_meta(directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The meta a saved frame was written with (None when there is no readable frame)."""
    try:
        layout = orjson.loads((Path(directory) / FRAME_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return dict(layout.get("meta") or {}) if layout.get("format") == FRAME_FORMAT else None
