"""The audience service: the one object providers use to reach the shared fake population.

It owns the TinyDB store (record of the built population) and the columnar index over it (queries); both
are built once and never change. Every write (``upsert``, ``update``, ``add_event``, ``delete``) goes into
the writing tenant's copy-on-write ``Overlay`` (``sandbox.population.audience.overlay``), and every read
(``find``, ``evaluate``, ``members``, ``estimate``, ``recipients``, ``profiles``) takes ``tenant=`` and sees
the base plus that tenant's overlay only. ``reset(tenant)`` drops that overlay, ``reset(None)`` all of them.
Writes never invalidate the base index, so a query after a write costs what it cost before it.

Time: the population's events lie in the year before its reference date, so relative windows ("last 30
days") count back from ``now()`` = the reference date plus however far the sandbox clock was moved.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from sandbox.core.clock import Clock
from sandbox.population.audience import rowwise
from sandbox.population.audience.evaluate import (
    NOT_FOUND,
    MemberResolver,
    Unreached,
    count_rows,
    evaluate,
    occurrences,
    recipients_of,
    unreached_of,
    unreached_reason,
)
from sandbox.population.audience.index import IDENTITY_KEYS, FrameIndex, Index, TreeKey, TreeMasks
from sandbox.population.audience.overlay import MEMO_TREES, Overlay, Part
from sandbox.population.audience.summary import summary_of
from sandbox.population.audience.tree import validate_tree
from sandbox.population.generator import (
    Profile,
    check_size,
    load_profile,
    parse_timestamp,
    paused_gc,
)
from sandbox.population.store import PopulationInfo, Store, load_population

WARM_LIMIT = 50_000
"""Populations up to this size get their index caches built at startup; larger ones build each cache on the
first query that needs it, so a warm start stays short (the first estimate then pays for it)."""


COUNTS_KEPT = 4096
"""Estimates of the built population kept (``AudienceService.estimate``)."""


CountsKey = tuple[TreeKey, str | None, tuple[str, ...] | None, bool]
"""What an estimate's counts are kept under: the tree's key, the channel, the platforms, count_devices."""


def as_text(value: Any) -> str:
    """A field's value as the text a query string compares it with (``true``/``false`` for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Profiles(Sequence[Profile]):
    """A tenant's profiles in view-row order, decoded when read (``AudienceService.profiles``)."""

    def __init__(self, service: AudienceService, tenant: str | None, rows: np.ndarray) -> None:
        self.service = service
        self.tenant = tenant
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> Profile: ...

    @overload
    def __getitem__(self, i: slice) -> list[Profile]: ...

    def __getitem__(self, i: int | slice) -> Profile | list[Profile]:
        if isinstance(i, slice):
            return [self.service.profile_at(int(row), tenant=self.tenant) for row in self.rows[i]]
        return self.service.profile_at(int(self.rows[i]), tenant=self.tenant)

    def __iter__(self) -> Iterator[Profile]:
        return (self.service.profile_at(int(row), tenant=self.tenant) for row in self.rows)


class AudienceService:
    def __init__(self, store: Store, info: PopulationInfo, clock: Clock) -> None:
        with paused_gc():  # many small long-lived objects: collections here only slow the start
            self._setup(store, info, clock)

    def _setup(self, store: Store, info: PopulationInfo, clock: Clock) -> None:
        self.store = store
        self.info = info
        self.clock = clock
        self.reference_ts = float(parse_timestamp(info.reference_date))
        self.index = FrameIndex(store.frame, self.reference_ts)
        if self.index.n <= WARM_LIMIT:
            self.index.warm()
        self._overlays: dict[str | None, Overlay] = {}
        self._counts: dict[CountsKey, dict[str, int]] = {}
        """The built population's counts per (tree, population time) and count arguments (``estimate``)."""
        self._valid: dict[bytes, None] = {}
        """Keys of trees that passed ``validate_tree`` (``_checked_key``), the most recent ``COUNTS_KEPT``."""
        self.load_seconds = 0.0
        """Reading or building the population, and setting up the service (for ``/_sandbox/health``)."""

    @classmethod
    def load(cls, *, clock: Clock, data_dir: Path | None = None, profile_path: Path | None = None,
             seed: int | None = None, size: int | None = None,
             on_progress: Callable[[int, int], None] | None = None) -> AudienceService:
        started = time.perf_counter()
        profile = load_profile(profile_path)
        size = int(profile.get("size", 10000) if size is None else size)
        check_size(size)
        store, info = load_population(profile, seed=seed, size=size, data_dir=data_dir, on_progress=on_progress)
        service = cls(store, info, clock)
        service.load_seconds = time.perf_counter() - started
        return service

    # -- time ------------------------------------------------------------------------------------
    def now(self, tenant: str | None = None) -> float:
        """Population time of ``tenant``: the reference date plus how far that tenant's sandbox clock is ahead
        of wall time."""
        return self.reference_ts + self.clock.offset(tenant)

    # -- tenants ---------------------------------------------------------------------------------
    def _overlay(self, tenant: str | None) -> Overlay:
        found = self._overlays.get(tenant)
        if found is None:
            found = self._overlays[tenant] = Overlay(self.index, self._base_identity_row)
        return found

    def _base_identity_row(self, identity: str) -> int | None:
        return self.index.row_of(identity, ("identity",))

    def _parts(self, tenant: str | None) -> list[Part]:
        overlay = self._overlays.get(tenant)
        return [Part(self.index, None, None)] if overlay is None else overlay.parts()

    def tenants(self) -> list[str | None]:
        """Tenants that have written to the population (and not been reset since)."""
        return list(self._overlays)

    # -- lookups ---------------------------------------------------------------------------------
    def _address(self, value: Any, keys: Sequence[str], tenant: str | None) -> tuple[int, Profile | None] | None:
        """(view row, the tenant's own version or None when the row is the base's) of the profile ``tenant``
        sees under the first of ``keys`` that knows ``value``: the tenant's own writes first, then the base
        profiles it has not written. Decodes nothing."""
        text = str(value)
        overlay = self._overlays.get(tenant)
        if overlay is None:  # a tenant that never wrote sees the base profiles only
            row = self.index.row_of(text, keys)
            return None if row is None else (row, None)
        for key in keys:
            found = overlay.lookup(key, text)
            if found is not None:
                return overlay.rows[str(found.get("identity"))], found
            row = self.index.row_of(text, (key,))
            if row is not None and overlay.base_live[row]:
                return row, None
        return None

    def locate(self, value: Any, keys: Sequence[str] = IDENTITY_KEYS, *,
               tenant: str | None) -> tuple[int, Profile] | None:
        """(view row, profile) of the profile ``tenant`` sees under the first of ``keys`` that knows
        ``value`` (``_address``)."""
        found = self._address(value, keys, tenant)
        if found is None:
            return None
        row, own = found
        return row, own if own is not None else self.index.profile(row)

    def find(self, value: Any, keys: Sequence[str] = IDENTITY_KEYS, *, tenant: str | None) -> Profile | None:
        """The profile addressed by ``value`` under the first of ``keys`` that knows it."""
        found = self.locate(value, keys, tenant=tenant)
        return None if found is None else found[1]

    def row_of(self, value: Any, keys: Sequence[str] = IDENTITY_KEYS, *, tenant: str | None) -> int | None:
        found = self._address(value, keys, tenant)
        return None if found is None else found[0]

    def reachability(self, value: Any, channel: str, *, tenant: str | None) -> dict[str, Any] | None:
        """The addressed user's ``reachability`` entry for ``channel`` (``{}`` when their profile has none),
        None when nobody is known by ``value``; a base profile is not decoded for it."""
        found = self._address(value, IDENTITY_KEYS, tenant)
        if found is None:
            return None
        row, own = found
        if own is not None:
            return ((own.get("reachability") or {}).get(channel)) or {}
        return self.index.reachability(row, channel)

    def profile_at(self, row: int, *, tenant: str | None) -> Profile:
        """The profile at a view row (as returned by ``recipients``/``row_of``); ``{}`` if deleted."""
        overlay = self._overlays.get(tenant)
        if overlay is not None and overlay.identity_at.get(row) is not None:
            return overlay.at(row) or {}
        return self.index.profile(row)

    def profiles(self, *, tenant: str | None, where: Mapping[str, str] | None = None) -> Profiles:
        """Every profile ``tenant`` sees, in view-row order (decoded as they are read); ``where``: only those
        whose field (or custom property) of each name reads as that text (``as_text``), matched on the
        index's columns rather than by decoding every profile."""
        overlay = self._overlays.get(tenant)
        if not where and overlay is None:
            return Profiles(self, tenant, np.arange(self.index.n))
        parts = []
        for part in self._parts(tenant):
            mask = part.index.alive.copy() if part.live is None else part.live & part.index.alive
            for name, text in (where or {}).items():
                column = part.index.column(name)
                mask &= column.spread(np.array([as_text(v) == text for v in column.uniq], dtype=bool))
            parts.append((part, mask))
        return Profiles(self, tenant, np.flatnonzero(self._combine(parts, tenant)))

    def size(self, *, tenant: str | None) -> int:
        overlay = self._overlays.get(tenant)
        return self.index.n if overlay is None else len(overlay)

    def __len__(self) -> int:
        """Size of the built (base) population."""
        return self.index.n

    # -- writes ------------------------------------------------------------------------------------
    def upsert(self, profile: Mapping[str, Any], *, tenant: str | None) -> Profile:
        """Store ``profile`` for ``tenant`` (replacing the one with the same ``identity``); returns it."""
        doc = dict(profile)
        self._overlay(tenant).write(str(doc["identity"]), doc)
        return doc

    def update(self, identity: str, changes: Mapping[str, Any], *, tenant: str | None) -> Profile:
        """Copy-on-write merge of top-level fields (``properties`` merged one level deeper)."""
        current = self._current(identity, tenant)
        merged = {**current, **changes}
        if "properties" in changes:
            merged["properties"] = {**current.get("properties", {}), **changes["properties"]}
        return self.upsert(merged, tenant=tenant)

    def add_event(self, identity: str, name: str, ts: float, props: Mapping[str, Any] | None = None, *,
                  tenant: str | None) -> Profile:
        current = self._current(identity, tenant)
        events = sorted([*current.get("events", []), {"name": name, "ts": int(ts), "props": dict(props or {})}],
                        key=lambda e: e["ts"])
        return self.upsert({**current, "events": events}, tenant=tenant)

    def _current(self, identity: str, tenant: str | None) -> Profile:
        return self.find(identity, ("identity",), tenant=tenant) or {"identity": identity, "events": [],
                                                                     "devices": []}

    def delete(self, identity: str, *, tenant: str | None) -> bool:
        if self.find(identity, ("identity",), tenant=tenant) is None:
            return False
        self._overlay(tenant).write(identity, None)
        return True

    # -- queries -------------------------------------------------------------------------------------
    def _part_masks(self, tree: Mapping[str, Any], tenant: str | None,
                    resolve_member: MemberResolver | None) -> list[tuple[Part, np.ndarray]]:
        now = self.now(tenant)
        key = self._checked_key(tree, now)
        out = []
        for part in self._parts(tenant):
            found = self._tree_mask(part.index, key, tree, now, resolve_member)
            out.append((part, found.copy() if part.live is None else found & part.live))
        return out

    def _checked_key(self, tree: Mapping[str, Any], now: float) -> TreeKey | None:
        """``TreeMasks.key`` of ``tree``, validated first (``validate_tree`` raises) unless a tree of the same
        text passed recently (a tree without a key of its own is always validated)."""
        key = TreeMasks.key(tree, now)
        if key is None or key[0] not in self._valid:
            validate_tree(tree)
            if key is not None:
                self._valid[key[0]] = None
                if len(self._valid) > COUNTS_KEPT:
                    del self._valid[next(iter(self._valid))]
        return key

    @staticmethod
    def _tree_mask(index: Index, key: TreeKey | None, tree: Mapping[str, Any], now: float,
                   resolve_member: MemberResolver | None) -> np.ndarray:
        """``tree``'s mask over ``index``, kept by the index under ``key`` (``TreeMasks.key``, made once per
        query): do not modify it."""
        return index.trees.get(key, lambda: evaluate(tree, index, resolve_member=resolve_member, now=now,
                                                     validate=False))

    def evaluate(self, tree: Mapping[str, Any], *, tenant: str | None,
                 resolve_member: MemberResolver | None = None) -> np.ndarray:
        """Boolean mask over ``tenant``'s view rows of the profiles matching ``tree``."""
        return self._combine(self._part_masks(tree, tenant, resolve_member), tenant)

    def has_device(self, platforms: Iterable[str], *, tenant: str | None) -> np.ndarray:
        """Mask over ``tenant``'s view rows of the profiles with a device on one of ``platforms``."""
        wanted = list(platforms)
        parts = [(part, part.index.has_device(wanted) & (True if part.live is None else part.live))
                 for part in self._parts(tenant)]
        return self._combine(parts, tenant)

    def _combine(self, parts: list[tuple[Part, np.ndarray]], tenant: str | None) -> np.ndarray:
        if len(parts) == 1:
            return parts[0][1]
        out = np.zeros(self.size_of_view(tenant), dtype=bool)
        for part, mask in parts:
            if part.rows is None:
                out[:len(mask)] = mask
            else:
                out[part.rows[mask]] = True
        return out

    def summary(self, *, tenant: str | None) -> dict[str, Any]:
        """``population show``'s counts over ``tenant``'s view (``sandbox.population.audience.summary``)."""
        return summary_of((part.index, part.index.alive if part.live is None else part.live)
                          for part in self._parts(tenant))

    def size_of_view(self, tenant: str | None) -> int:
        """Rows in ``tenant``'s view (deleted rows included): the length of ``evaluate``'s mask."""
        overlay = self._overlays.get(tenant)
        return self.index.n if overlay is None else overlay.size

    def estimate(self, tree: Mapping[str, Any], *, tenant: str | None, channel: str | None,
                 platforms: Iterable[str] | None = None, count_devices: bool = False,
                 resolve_member: MemberResolver | None = None) -> dict[str, int]:
        """Reachable counts (``sandbox.population.audience.evaluate``'s keys) over ``tenant``'s view. The counts
        of the built population and of each overlay level are kept per tree, and only what a tenant's writes
        changed since is counted again: the rows they superseded are taken off, and the profiles written since
        the last indexed level are counted one by one (``rowwise``), so an estimate that follows a write costs
        about what one without it does."""
        now = self.now(tenant)
        key = self._checked_key(tree, now)
        args = {"channel": channel, "platforms": None if platforms is None else list(platforms),
                "count_devices": count_devices}
        memo = None if key is None else (key, channel, None if platforms is None else tuple(platforms),
                                         count_devices)
        overlay = self._overlays.get(tenant)
        if overlay is None:
            return dict(self._base_counts(memo, self._tree_mask(self.index, key, tree, now, resolve_member), args))
        totals: dict[str, int] = {}
        masks: dict[int, np.ndarray] = {}
        for part in overlay.indexed_parts(index_fresh=False):
            found = masks[id(part.index)] = self._tree_mask(part.index, key, tree, now, resolve_member)
            if part.rows is None:  # the built population, less the rows the tenant rewrote
                _add(totals, self._base_counts(memo, found, args))
                _add(totals, _dead_counts(part, memo, found, args), -1)
            else:
                _add(totals, _live_counts(part, memo, found, args))
        fresh = None if memo is None else _fresh_counts(overlay, memo, tree, now, args)
        if fresh is None:
            part = overlay.fresh_part()
            if part is not None:
                found = self._tree_mask(part.index, key, tree, now, resolve_member)
                _add(totals, count_rows(np.flatnonzero(found), part.index, **args))
        else:
            _add(totals, fresh)
        if overlay.full:
            kept = None if memo is None else overlay.fresh_memo.get(memo)
            matched = {} if kept is None else {identity: seen[1] for identity, seen in kept[1].items()}
            taken, identities, level = overlay.index_fresh()
            if memo is not None and fresh is not None:
                _carry(taken, identities, level, memo, masks, matched, fresh)
        return {key: int(value) for key, value in totals.items()}

    def _base_counts(self, memo: CountsKey | None, found: np.ndarray,
                     args: dict[str, Any]) -> dict[str, int]:
        if memo is None:
            return count_rows(np.flatnonzero(found), self.index, **args)
        counts = self._counts.get(memo)
        if counts is None:
            counts = self._counts[memo] = count_rows(np.flatnonzero(found), self.index, **args)
            while len(self._counts) > COUNTS_KEPT:
                del self._counts[next(iter(self._counts))]
        return counts

    def recipients(self, tree: Mapping[str, Any], *, tenant: str | None, channel: str | None,
                   platforms: Iterable[str] | None = None, all_devices: bool = False, limit: int | None = None,
                   resolve_member: MemberResolver | None = None,
                   unreached: Unreached | None = None) -> list[dict[str, Any]]:
        """One dict per delivery target (``row``, ``identity``, ``platform``+``token`` | ``email`` | ``phone``),
        in view-row order; ``row`` is a view row (``profile_at``). With ``unreached``, also who matched but
        cannot receive ``channel`` (counts per reason, a sample of view rows)."""
        parts = self._part_masks(tree, tenant, resolve_member)
        out: list[dict[str, Any]] = []
        for part, mask in parts:
            if unreached is not None and channel is not None:
                _note_unreached(unreached, part, mask, channel, platforms)
            found = recipients_of(mask, part.index, channel=channel, platforms=platforms, all_devices=all_devices,
                                  limit=limit)
            if part.rows is not None:
                for entry in found:
                    entry["row"] = int(part.rows[entry["row"]])
            out += found
        if len(parts) > 1:
            out.sort(key=lambda entry: entry["row"])
            if unreached is not None:
                unreached.rows = {k: sorted(v)[:unreached.sample] for k, v in unreached.rows.items()}
        return out[:limit]

    def unreached_reason(self, row: int, channel: str, *, tenant: str | None,
                         platforms: Iterable[str] | None = None) -> str | None:
        """Why the profile at view ``row`` cannot receive ``channel`` (``unreached_of``; ``not_found`` once
        deleted), None if it can."""
        overlay = self._overlays.get(tenant)
        if overlay is None and platforms is None:  # a tenant that never wrote: the built population's mask
            if self.index.reachable(channel)[row]:
                return None
        elif overlay is not None:
            fresh = overlay.fresh_at(row)
            if fresh is not None:  # written since the last level: no index over it needed
                with contextlib.suppress(rowwise.Unsupported):
                    return rowwise.unreached_reason(fresh[0], channel, platforms)
        found = (self.index, row) if overlay is None else overlay.current(row)
        return NOT_FOUND if found is None else unreached_reason(found[0], found[1], channel, platforms)

    def members(self, tree: Mapping[str, Any], *, tenant: str | None, resolve_member: MemberResolver | None = None,
                limit: int | None = None) -> list[Profile]:
        """The matching profiles in view-row (population) order."""
        rows = np.flatnonzero(self.evaluate(tree, tenant=tenant, resolve_member=resolve_member))[:limit]
        return [self.profile_at(int(r), tenant=tenant) for r in rows]

    def event_occurrences(self, tree: Mapping[str, Any], node: Mapping[str, Any], *, tenant: str | None,
                          resolve_member: MemberResolver | None = None) -> int:
        """How many occurrences of ``node``'s event (window ``from``/``to``, ``properties``) belong to users
        matching ``tree``, over ``tenant``'s view."""
        now = self.now(tenant)
        return sum(int(np.count_nonzero(occurrences(node, part.index, users, now=now)))
                   for part, users in self._part_masks(tree, tenant, resolve_member))

    # -- reset and persistence -----------------------------------------------------------------------
    def reset(self, tenant: str | None) -> None:
        """Drop ``tenant``'s writes (``None``: every tenant's)."""
        if tenant is None:
            self._overlays.clear()
        else:
            self._overlays.pop(tenant, None)

    def export_state(self) -> dict[str, Any]:
        """Every tenant's writes, JSON-serialisable (orjson): ``import_state`` puts them back."""
        return {"population": self.info.fingerprint,
                "tenants": [{"tenant": tenant, "writes": overlay.export()}
                            for tenant, overlay in self._overlays.items() if overlay.profiles]}

    def import_state(self, data: Mapping[str, Any]) -> None:
        """Replace every tenant's writes with those of ``export_state`` (rows and order as they were)."""
        self._overlays.clear()
        for entry in data.get("tenants") or ():
            tenant = entry.get("tenant")
            self._overlay(None if tenant is None else str(tenant)).replay(entry.get("writes") or ())

    def describe(self) -> dict[str, Any]:
        return {"size": len(self), "seed": self.info.seed, "reference_date": self.info.reference_date,
                "built": self.info.built, "load_seconds": round(self.load_seconds, 3)}


def _note_unreached(unreached: Unreached, part: Part, mask: np.ndarray, channel: str,
                    platforms: Iterable[str] | None) -> None:
    for reason, rows in unreached_of(mask, part.index, channel=channel, platforms=platforms).items():
        found = np.flatnonzero(rows)
        unreached.counts[reason] = unreached.counts.get(reason, 0) + len(found)
        sample = found[:unreached.sample]
        view_rows = sample if part.rows is None else part.rows[sample]
        unreached.rows.setdefault(reason, []).extend(int(r) for r in view_rows)


def _add(into: dict[str, int], counts: Mapping[str, int], sign: int = 1) -> None:
    """``into`` += ``sign`` * ``counts``, key by key (keys in first-seen order, zeros kept)."""
    for key, value in counts.items():
        into[key] = into.get(key, 0) + sign * value


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> Any:
    """``memo[key] = value``, keeping the most recent ``COUNTS_KEPT`` entries; returns ``value``."""
    memo[key] = value
    while len(memo) > COUNTS_KEPT:
        del memo[next(iter(memo))]
    return value


def _dead_counts(part: Part, memo: CountsKey | None, found: np.ndarray,
                 args: dict[str, Any]) -> dict[str, int]:
    """The counts of ``part``'s rows in ``found`` that are no longer current (``Part.dead``), kept in
    ``part.memo`` per tree and arguments and brought up to date with the rows that died since."""
    dead = np.asarray(part.dead if part.dead is not None else (), dtype=np.int64)
    if memo is None or part.memo is None:
        return count_rows(dead[found[dead]], part.index, **args)
    kept = part.memo.get(memo)
    if kept is None:
        kept = _remember(part.memo, memo, [0, {}])
    done, counts = kept
    if done < len(dead):
        new = dead[done:]
        hits = new[found[new]]
        if len(hits):
            _add(counts, count_rows(hits, part.index, **args))
        kept[0] = len(dead)
    return counts


def _live_counts(part: Part, memo: CountsKey | None, found: np.ndarray,
                 args: dict[str, Any]) -> dict[str, int]:
    """The counts of ``part``'s current rows in ``found``: kept in ``part.memo`` as the counts of the rows
    current when first counted, less those that died since."""
    live = found if part.live is None else found & part.live
    if memo is None or part.memo is None:
        return count_rows(np.flatnonzero(live), part.index, **args)
    kept = part.memo.get(memo)
    if kept is None:
        dead = len(part.dead or ())
        kept = _remember(part.memo, memo, [dead, count_rows(np.flatnonzero(live), part.index, **args)])
    done, counts = kept
    dead_rows = part.dead or ()
    if done < len(dead_rows):
        hits = [int(row) for row in dead_rows[done:] if found[row]]
        try:  # a level's rows are profile dicts: what each added, one by one
            for row in hits:
                _add(counts, rowwise.contribution(part.index.profile(row), **args), -1)
        except rowwise.Unsupported:
            del part.memo[memo]
            return _live_counts(part, memo, found, args)
        kept[0] = len(dead_rows)
    return counts


def _fresh_counts(overlay: Overlay, memo: CountsKey, tree: Mapping[str, Any], now: float,
                  args: dict[str, Any]) -> dict[str, int] | None:
    """The counts of the tenant's fresh profiles (``Overlay.fresh_profiles``), each counted once per version
    (``rowwise``) and kept in ``overlay.fresh_memo``; None when one of them needs the evaluator."""
    fresh = overlay.fresh_profiles()
    kept = overlay.fresh_memo.get(memo)
    if kept is None:
        while len(overlay.fresh_memo) >= MEMO_TREES:
            del overlay.fresh_memo[next(iter(overlay.fresh_memo))]
        kept = overlay.fresh_memo[memo] = ({}, {})
    total, each = kept
    try:
        for identity, profile in fresh:
            seen = each.get(identity)
            if seen is not None and seen[0] is profile:
                continue
            matched = rowwise.matches(tree, profile, now)
            counts = rowwise.contribution(profile, **args) if matched and profile is not None else {}
            if seen is not None:
                _add(total, seen[2], -1)
            _add(total, counts)
            each[identity] = (profile, matched, counts)
    except rowwise.Unsupported:
        del overlay.fresh_memo[memo]
        return None
    return total


def _carry(taken: list[Part], fresh: list[str], level: Part, memo: CountsKey,
           masks: dict[int, np.ndarray], matched: dict[str, bool], fresh_total: dict[str, int]) -> None:
    """Give a level just made of ``taken``'s current rows and the ``fresh`` profiles (``Overlay.index_fresh``)
    the mask and the counts of the tree just estimated, from theirs (each up to date: ``masks`` by index,
    ``memo`` in their ``Part.memo``, ``matched`` per fresh identity): no evaluation, no count."""
    pieces = []
    total: dict[str, int] = {}
    for part in taken:
        kept = None if part.memo is None else part.memo.get(memo)
        found = masks.get(id(part.index))
        if kept is None or kept[0] != len(part.dead or ()) or found is None or part.live is None:
            return
        pieces.append(found[part.live])
        _add(total, kept[1])
    pieces.append(np.array([matched[identity] for identity in fresh], dtype=bool))
    _add(total, fresh_total)
    mask = np.concatenate(pieces)
    level.index.trees.get(memo[0], lambda: mask)
    if level.memo is not None:
        _remember(level.memo, memo, [0, total])
