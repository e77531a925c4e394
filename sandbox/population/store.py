"""TinyDB store of record of the population (profiles, meta) and of any table asked for by name.

``Store.memory()`` keeps everything in memory; ``Store.file(path)`` loads a JSON file once through an
orjson-backed storage and writes it back only on ``flush()`` (never per request). TinyDB is the store of
record, not the query engine: audiences are evaluated on ``sandbox.population.audience.index.Index``.
The built population in it never changes at run time: tenants' writes live in the audience service's
overlays (``sandbox.population.audience.overlay``).

``load_population`` builds the population once per fingerprint (profile content, seed, size, reference
date, generator and Faker versions) and records the fingerprint in the ``meta`` table, so a later start on
the same file loads it without rebuilding.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Table

from sandbox.population import generator as population
from sandbox.population.generator import ProgressCallback, paused_gc

PROFILES = "profiles"
META = "meta"


class OrjsonStorage(Storage):
    """TinyDB storage holding the whole database in memory; reads a JSON file once, writes on flush()."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] | None = None
        if self.path.is_file() and self.path.stat().st_size:
            with paused_gc():
                self._data = orjson.loads(self.path.read_bytes())

    def read(self) -> dict[str, dict[str, Any]] | None:
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data

    def flush(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(orjson.dumps(self._data or {}))
        os.replace(tmp, self.path)

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class PopulationInfo:
    fingerprint: str
    size: int
    seed: int
    reference_date: str
    built: bool
    seconds: float


class Store:
    """Thin wrapper over one TinyDB: named tables, raw access for bulk reads, flush, population snapshot."""

    def __init__(self, db: TinyDB, path: Path | None = None) -> None:
        self.db = db
        self.path = path
        self._doc_by_identity: dict[str, int] | None = None

    @classmethod
    def memory(cls) -> Store:
        return cls(TinyDB(storage=MemoryStorage))

    @classmethod
    def file(cls, path: str | os.PathLike[str]) -> Store:
        return cls(TinyDB(path, storage=OrjsonStorage), Path(path))

    # -- tables -------------------------------------------------------------------------------------
    def table(self, name: str) -> Table:
        return self.db.table(name)

    @property
    def profiles(self) -> Table:
        return self.table(PROFILES)

    @property
    def campaigns(self) -> Table:
        return self.table("campaigns")

    @property
    def deliveries(self) -> Table:
        return self.table("deliveries")

    @property
    def uploads(self) -> Table:
        return self.table("uploads")

    def raw(self, name: str) -> dict[str, dict[str, Any]]:
        """The live ``{doc_id: document}`` dict of a table (no copies; do not mutate without care)."""
        data = self.db.storage.read() or {}
        return data.get(name, {})

    def profile_list(self) -> list[dict[str, Any]]:
        """All profiles as the stored dicts, in document-id order (what ``Index.build`` takes)."""
        return list(self.raw(PROFILES).values())

    # -- meta ----------------------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        return dict(self.raw(META).get("1", {}))

    def set_meta(self, **values: Any) -> None:
        table = self.table(META)
        if table.contains(doc_id=1):
            table.update(values, doc_ids=[1])
        else:
            table.insert(values)

    # -- profiles ------------------------------------------------------------------------------------
    def get_profile(self, identity: str) -> dict[str, Any] | None:
        doc_id = self._identity_map().get(identity)
        return None if doc_id is None else self.raw(PROFILES).get(str(doc_id))

    def upsert_profiles(self, profiles: Iterable[Mapping[str, Any]]) -> list[int]:
        """Replace profiles by ``identity`` or append new ones, in one table write. Returns doc ids."""
        ids = self._identity_map()
        raw = self.raw(PROFILES)
        new: list[dict[str, Any]] = []
        pending: dict[str, int] = {}
        slots: list[tuple[bool, int]] = []
        for profile in profiles:
            doc = dict(profile)
            identity = str(doc.get("identity"))
            doc_id = ids.get(identity)
            if doc_id is not None and str(doc_id) in raw:
                raw[str(doc_id)] = doc
                slots.append((False, doc_id))
            elif identity in pending:
                new[pending[identity]] = doc
                slots.append((True, pending[identity]))
            else:
                pending[identity] = len(new)
                slots.append((True, len(new)))
                new.append(doc)
        new_ids = self.profiles.insert_multiple(new) if new else []
        for identity, position in pending.items():
            ids[identity] = new_ids[position]
        out = [new_ids[value] if is_new else value for is_new, value in slots]
        self.profiles.clear_cache()
        return out

    def delete_profiles(self, identities: Iterable[str]) -> int:
        """Remove profiles by identity; returns how many existed."""
        ids = self._identity_map()
        raw = self.raw(PROFILES)
        removed = 0
        for identity in identities:
            doc_id = ids.pop(str(identity), None)
            if doc_id is not None and raw.pop(str(doc_id), None) is not None:
                removed += 1
        self.profiles.clear_cache()
        return removed

    def _identity_map(self) -> dict[str, int]:
        if self._doc_by_identity is None:
            self._doc_by_identity = {str(doc.get("identity")): int(doc_id)
                                     for doc_id, doc in self.raw(PROFILES).items()}
        return self._doc_by_identity

    def reset(self, keep: Iterable[str] = (META,)) -> None:
        """Drop every table except ``keep`` and the profiles."""
        kept = set(keep) | {PROFILES}
        for name in list(self.db.tables()):
            if name not in kept:
                self.db.drop_table(name)

    # -- persistence ---------------------------------------------------------------------------------
    def flush(self) -> None:
        storage = self.db.storage
        if isinstance(storage, OrjsonStorage):
            storage.flush()

    def close(self) -> None:
        self.db.close()


def _faker_version() -> str:
    """Faker's version from its dist-info folder name: ``import faker`` or ``importlib.metadata`` would cost
    about a second on every warm start."""
    import importlib.util

    spec = importlib.util.find_spec("faker")
    if spec is not None and spec.origin:
        site = Path(spec.origin).parent.parent
        for info in site.glob("[Ff]aker-*.dist-info"):
            return info.name[len("faker-"):-len(".dist-info")]
    from importlib.metadata import version

    return version("faker")


def population_fingerprint(profile: Mapping[str, Any], seed: int, size: int, reference_date: str) -> str:
    faker_version = _faker_version()

    payload = orjson.dumps({"profile": profile, "seed": seed, "size": size, "reference_date": reference_date,
                            "generator": population.GENERATOR_VERSION, "faker": faker_version},
                           option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


def load_population(store: Store, profile: Mapping[str, Any], seed: int | None = None,
                    size: int | None = None, on_progress: ProgressCallback | None = None) -> PopulationInfo:
    """Build the population into ``store`` unless the stored fingerprint already matches; file stores
    are flushed after a build so the next start is warm."""
    started = time.perf_counter()
    seed = int(profile.get("seed", 42) if seed is None else seed)
    size = int(profile.get("size", 10000) if size is None else size)
    reference_date = str(profile.get("reference_date", population.DEFAULT_REFERENCE_DATE))
    fingerprint = population_fingerprint(profile, seed, size, reference_date)
    meta = store.meta()
    built = meta.get("population_fingerprint") != fingerprint or len(store.raw(PROFILES)) != size
    if built:
        users = population.generate(profile, seed=seed, size=size, reference_date=reference_date,
                                     on_progress=on_progress)
        store.db.drop_table(PROFILES)
        with paused_gc():
            store.profiles.insert_multiple(users)
        store._doc_by_identity = None
        store.set_meta(population_fingerprint=fingerprint, population_size=size, population_seed=seed,
                       reference_date=reference_date)
        store.flush()
    elif on_progress is not None:
        on_progress(size, size)
    return PopulationInfo(fingerprint, size, seed, reference_date, built, time.perf_counter() - started)
