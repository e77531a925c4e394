"""The built population's store of record: a TinyDB whose profiles live in columns.

TinyDB holds the population as documents: a ``profiles`` table (document id = row + 1) and a ``meta`` table.
Its storage (``FrameStorage``) serves the profiles table from the columnar frame
(``sandbox.population.frame``), decoding a document only when it is read, so a million users never sit in
memory as dicts. The table is read-only: the built population never changes at run time, tenants' writes
live in the audience service's overlays (``sandbox.population.audience.overlay``).

``load_population`` builds the frame once per fingerprint (profile content, seed, size, reference date,
generator and Faker versions). With a data dir the frame is saved there (``population-<fingerprint>/``, one
``.npy`` per column) and memory-mapped by the next start with the same fingerprint; without one, frames
built in this process are kept by fingerprint, so apps built one after another (test suites, the pytest
plugin) share them.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from sandbox.population import generator as population
from sandbox.population.frame import Frame, saved_meta
from sandbox.population.generator import ProgressCallback

PROFILES = "profiles"
META = "meta"
FRAME_PREFIX = "population-"
"""The saved frames inside ``--data-dir``: one per population fingerprint (``frame_dir``), so a data dir used
with another size, seed or profile keeps both populations instead of overwriting one."""
_BUILT: dict[str, Frame] = {}
"""Frames built in this process without a data dir, by fingerprint (never mutated). Bounded."""
_BUILT_MAX = 4


def frame_dir(data_dir: Path, fingerprint: str) -> Path:
    return Path(data_dir) / f"{FRAME_PREFIX}{fingerprint[:16]}"


class FrameTable(Mapping[str, dict[str, Any]]):
    """The ``profiles`` table as TinyDB reads it: ``{doc_id: profile}``, decoded from the frame on access."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame

    def __getitem__(self, doc_id: str) -> dict[str, Any]:
        row = int(doc_id) - 1 if str(doc_id).isdigit() else -1
        if not 0 <= row < self.frame.n:
            raise KeyError(doc_id)
        return self.frame.profile(row)

    def __iter__(self) -> Iterator[str]:
        return (str(row + 1) for row in range(self.frame.n))

    def __len__(self) -> int:
        return self.frame.n


class FrameStorage(Storage):
    """TinyDB storage: the frame's profiles (read-only) and the other tables in memory."""

    def __init__(self, frame: Frame, meta: Mapping[str, Any]) -> None:
        self.profiles = FrameTable(frame)
        self.tables: dict[str, Any] = {META: {"1": dict(meta)}}

    def read(self) -> dict[str, Any]:
        return {**self.tables, PROFILES: self.profiles}

    def write(self, data: dict[str, Any]) -> None:
        if data.get(PROFILES) is not self.profiles:
            raise TypeError("the built population is read-only: write through a tenant's overlay")
        self.tables = {name: table for name, table in data.items() if name != PROFILES}


@dataclass(frozen=True, slots=True)
class PopulationInfo:
    fingerprint: str
    size: int
    seed: int
    reference_date: str
    built: bool
    seconds: float


class Store:
    """The TinyDB of one built population (``FrameStorage``) and its frame."""

    def __init__(self, frame: Frame, meta: Mapping[str, Any]) -> None:
        self.frame = frame
        self.db = TinyDB(storage=FrameStorage, frame=frame, meta=meta)

    @property
    def profiles(self) -> Table:
        return self.db.table(PROFILES)

    def meta(self) -> dict[str, Any]:
        return dict(self.db.table(META).get(doc_id=1) or {})

    def profile_list(self) -> list[dict[str, Any]]:
        """Every profile as a dict, in row order (decodes them all: for small populations and tools)."""
        return list(self.frame)


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
    payload = orjson.dumps({"profile": profile, "seed": seed, "size": size, "reference_date": reference_date,
                            "generator": population.GENERATOR_VERSION, "faker": _faker_version()},
                           option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


def load_population(profile: Mapping[str, Any], *, seed: int | None = None, size: int | None = None,
                    data_dir: Path | None = None,
                    on_progress: ProgressCallback | None = None) -> tuple[Store, PopulationInfo]:
    """The population of ``profile`` (seed and size default to its own): loaded from ``data_dir`` when a
    frame with the same fingerprint is saved there, else built (and saved there)."""
    started = time.perf_counter()
    seed = int(profile.get("seed", 42) if seed is None else seed)
    size = int(profile.get("size", 10000) if size is None else size)
    reference_date = str(profile.get("reference_date", population.DEFAULT_REFERENCE_DATE))
    fingerprint = population_fingerprint(profile, seed, size, reference_date)
    meta = {"population_fingerprint": fingerprint, "population_size": size, "population_seed": seed,
            "reference_date": reference_date}
    frame = _saved(data_dir, fingerprint) if data_dir is not None else _BUILT.get(fingerprint)
    built = frame is None
    if frame is None:
        frame = population.build_frame(profile, seed=seed, size=size, reference_date=reference_date,
                                       on_progress=on_progress)
        if data_dir is not None:
            frame.save(frame_dir(data_dir, fingerprint), meta)
            frame = Frame.load(frame_dir(data_dir, fingerprint))[0]  # mapped: its pages belong to the cache
        else:
            while len(_BUILT) >= _BUILT_MAX:
                _BUILT.pop(next(iter(_BUILT)))
            _BUILT[fingerprint] = frame
    elif on_progress is not None:
        on_progress(size, size)
    info = PopulationInfo(fingerprint, size, seed, reference_date, built, time.perf_counter() - started)
    return Store(frame, meta), info


def _saved(data_dir: Path, fingerprint: str) -> Frame | None:
    """The frame saved for ``fingerprint`` in ``data_dir``; None (and the remains removed) when there is none
    or it cannot be read, so it is built again."""
    directory = frame_dir(data_dir, fingerprint)
    meta = saved_meta(directory)
    if meta is not None and meta.get("population_fingerprint") == fingerprint:
        try:
            return Frame.load(directory)[0]
        except (OSError, ValueError, KeyError):
            pass
    shutil.rmtree(directory, ignore_errors=True)
    return None
