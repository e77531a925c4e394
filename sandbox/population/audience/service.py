"""The audience service: the one object providers use to reach the shared fake population.

It owns the TinyDB store (record of profiles) and the columnar index (queries), and keeps them in step:
writes (``upsert``, ``update``, ``add_event``, ``delete``) go to both at once; the index drops only its
derived caches, which the next query rebuilds (lookups by identity use maps kept up to date on each write).
Writes are remembered per tenant, so ``reset(tenant)`` puts back just what that tenant changed and
``reset(None)`` restores the whole built population.

Time: the population's events lie in the year before its reference date, so relative windows ("last 30
days") count back from ``now()`` = the reference date plus however far the sandbox clock was moved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.core.clock import Clock
from sandbox.population.audience.evaluate import MemberResolver, estimate, evaluate, recipients
from sandbox.population.audience.index import IDENTITY_KEYS, Index
from sandbox.population.generator import DEFAULT_REFERENCE_DATE, Profile, load_profile, parse_timestamp, paused_gc
from sandbox.population.store import PopulationInfo, Store, load_population, population_fingerprint

STORE_FILE = "sandbox-db.json"
"""The TinyDB file inside ``--data-dir``."""

_GENERATED: dict[str, list[Profile]] = {}
"""Memo of populations generated in this process, by fingerprint. Generated profiles are never mutated (every
write is copy-on-write), so apps built one after another (test suites, the pytest plugin) share them
instead of paying for Faker again. Bounded to a few entries."""
_GENERATED_MAX = 4

WARM_LIMIT = 50_000
"""Populations up to this size get their index caches built at startup; larger ones build each cache on the
first query that needs it, so a warm start stays short (the first estimate then pays for it)."""


class AudienceService:
    def __init__(self, store: Store, info: PopulationInfo, clock: Clock) -> None:
        with paused_gc():  # many small long-lived objects: collections here only slow the start
            self._setup(store, info, clock)

    def _setup(self, store: Store, info: PopulationInfo, clock: Clock) -> None:
        self.store = store
        self.info = info
        self.clock = clock
        self.reference_ts = float(parse_timestamp(info.reference_date))
        self.index = Index.build(store.profile_list(), self.reference_ts)
        self.index.mark_pristine(warm=self.index.n <= WARM_LIMIT)
        self._maps: dict[str, dict[str, Profile]] = {}
        """identity key -> value -> profile, each built on first use and then kept up to date by writes."""
        self._pristine = {str(p.get("identity")): p for p in store.profile_list()}
        self._touched: dict[str | None, set[str]] = {}
        self.load_seconds = 0.0
        """Reading or building the population, and setting up the service (for ``/_sandbox/health``)."""

    @classmethod
    def load(cls, *, clock: Clock, data_dir: Path | None = None, profile_path: Path | None = None,
             seed: int | None = None, size: int | None = None,
             on_progress: Callable[[int, int], None] | None = None) -> AudienceService:
        started = time.perf_counter()
        store = Store.file(Path(data_dir) / STORE_FILE) if data_dir is not None else Store.memory()
        profile = load_profile(profile_path)
        seed = int(profile.get("seed", 42) if seed is None else seed)
        size = int(profile.get("size", 10000) if size is None else size)
        fingerprint = population_fingerprint(profile, seed, size,
                                             str(profile.get("reference_date", DEFAULT_REFERENCE_DATE)))
        if fingerprint in _GENERATED and store.meta().get("population_fingerprint") != fingerprint:
            store.profiles.insert_multiple(_GENERATED[fingerprint])
            store.set_meta(population_fingerprint=fingerprint)
        info = load_population(store, profile, seed=seed, size=size, on_progress=on_progress)
        if fingerprint not in _GENERATED:
            while len(_GENERATED) >= _GENERATED_MAX:
                _GENERATED.pop(next(iter(_GENERATED)))
            _GENERATED[fingerprint] = store.profile_list()
        service = cls(store, info, clock)
        service.load_seconds = time.perf_counter() - started
        return service

    # -- time ------------------------------------------------------------------------------------
    def now(self, tenant: str | None = None) -> float:
        """Population time of ``tenant``: the reference date plus how far that tenant's sandbox clock is ahead
        of wall time."""
        return self.reference_ts + self.clock.offset(tenant)

    # -- lookups ---------------------------------------------------------------------------------
    def _map_for(self, key: str) -> dict[str, Profile]:
        """The first profile with a value wins (hence ``reversed``)."""
        found = self._maps.get(key)
        if found is None:
            ordered = reversed(self.store.profile_list())
            found = self._maps[key] = {v if isinstance(v := p.get(key), str) else str(v): p
                                       for p in ordered if p.get(key) is not None}
        return found

    def find(self, value: Any, keys: Sequence[str] = IDENTITY_KEYS) -> Profile | None:
        """The profile addressed by ``value`` under the first of ``keys`` that knows it."""
        text = str(value)
        for key in keys:
            found = self._map_for(key).get(text)
            if found is not None:
                return found
        return None

    def profiles(self) -> list[Profile]:
        return self.store.profile_list()

    def __len__(self) -> int:
        return len(self.store.raw("profiles"))

    # -- writes ------------------------------------------------------------------------------------
    def upsert(self, profile: Mapping[str, Any], *, tenant: str | None) -> Profile:
        """Store ``profile`` (replacing the one with the same ``identity``); returns the stored dict."""
        doc = dict(profile)
        identity = str(doc["identity"])
        previous = self.find(identity, ("identity",))
        self.store.upsert_profiles([doc])
        self._unmap(previous)
        self._map(doc)
        self.index.upsert(doc)
        self._touched.setdefault(tenant, set()).add(identity)
        return doc

    def update(self, identity: str, changes: Mapping[str, Any], *, tenant: str | None) -> Profile:
        """Copy-on-write merge of top-level fields (``properties`` merged one level deeper)."""
        current = self.find(identity, ("identity",)) or {"identity": identity, "events": [], "devices": []}
        merged = {**current, **changes}
        if "properties" in changes:
            merged["properties"] = {**current.get("properties", {}), **changes["properties"]}
        return self.upsert(merged, tenant=tenant)

    def add_event(self, identity: str, name: str, ts: float, props: Mapping[str, Any] | None = None, *,
                  tenant: str | None) -> Profile:
        current = self.find(identity, ("identity",)) or {"identity": identity, "events": [], "devices": []}
        events = sorted([*current.get("events", []), {"name": name, "ts": int(ts), "props": dict(props or {})}],
                        key=lambda e: e["ts"])
        return self.upsert({**current, "events": events}, tenant=tenant)

    def delete(self, identity: str, *, tenant: str | None) -> bool:
        previous = self.find(identity, ("identity",))
        if previous is None:
            return False
        self.store.delete_profiles([identity])
        self.index.remove(identity)
        self._unmap(previous)
        self._touched.setdefault(tenant, set()).add(identity)
        return True

    def _map(self, profile: Profile) -> None:
        for key, mapping in self._maps.items():
            value = profile.get(key)
            if value is not None:
                mapping[str(value)] = profile

    def _unmap(self, profile: Profile | None) -> None:
        if profile is None:
            return
        for key, mapping in self._maps.items():
            value = profile.get(key)
            if value is not None and mapping.get(str(value)) is profile:
                del mapping[str(value)]

    # -- queries -------------------------------------------------------------------------------------
    def evaluate(self, tree: Mapping[str, Any], *, resolve_member: MemberResolver | None = None) -> np.ndarray:
        return evaluate(tree, self.index, resolve_member=resolve_member, now=self.now())

    def estimate(self, tree: Mapping[str, Any], *, channel: str | None, platforms: Iterable[str] | None = None,
                 count_devices: bool = False, resolve_member: MemberResolver | None = None) -> dict[str, int]:
        return estimate(tree, self.index, channel=channel, platforms=platforms, count_devices=count_devices,
                        resolve_member=resolve_member, now=self.now())

    def recipients(self, tree: Mapping[str, Any], *, channel: str | None, platforms: Iterable[str] | None = None,
                   all_devices: bool = False, limit: int | None = None,
                   resolve_member: MemberResolver | None = None) -> list[dict[str, Any]]:
        """One dict per delivery target (``row``, ``identity``, ``platform``+``token`` | ``email`` | ``phone``)."""
        return recipients(tree, self.index, channel=channel, platforms=platforms, all_devices=all_devices,
                          limit=limit, resolve_member=resolve_member, now=self.now())

    def members(self, tree: Mapping[str, Any], *, resolve_member: MemberResolver | None = None,
                limit: int | None = None) -> list[Profile]:
        """The matching profiles in population order."""
        index = self.index
        rows = np.flatnonzero(self.evaluate(tree, resolve_member=resolve_member))[:limit]
        return [index.profiles[int(r)] for r in rows]

    # -- reset -------------------------------------------------------------------------------------
    def reset(self, tenant: str | None) -> None:
        if tenant is None:
            if self._touched:
                self.store.restore_population()
                self.index.restore_pristine()
                self._maps = {}
            self._touched.clear()
            return
        identities = self._touched.pop(tenant, set())
        if not identities:
            return
        for identity in identities:
            current = self.find(identity, ("identity",))
            original = self._pristine.get(identity)
            if original is not None:
                self.store.upsert_profiles([original])
                self.index.upsert(original)
                self._unmap(current)
                self._map(original)
            elif current is not None:
                self.store.delete_profiles([identity])
                self.index.remove(identity)
                self._unmap(current)

    def describe(self) -> dict[str, Any]:
        return {"size": len(self), "seed": self.info.seed, "reference_date": self.info.reference_date,
                "built": self.info.built, "load_seconds": round(self.load_seconds, 3)}
