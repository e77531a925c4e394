"""A tenant's copy-on-write layer over the shared, never-changing base population.

The base index (built once at startup) stays valid forever: writes never touch it. A tenant's writes land
in its ``Overlay``: the latest version of every profile it wrote (``None`` once deleted), and small indexes
over just those profiles. A tenant sees a *view*: rows ``0..n-1`` are the base population (a row written by
the tenant shows the tenant's version instead; a deleted one matches nothing) and rows ``n..`` the profiles
the tenant created, in the order it created them. So rows keep their population order whatever is written.

Queries run part by part (``Overlay.parts``): the base index with the tenant's written rows masked out,
then the overlay's indexes with their superseded rows masked out; every audience node is a per-row
predicate, so evaluating each part and placing its matches at their view rows gives exactly the answer a
single index over the merged population would give. The profiles written since the last indexed level are
*fresh*: they have no index until there are ``FRESH_MIN`` of them (a query that needs one gets an index over
just them, ``fresh_part``; an estimate counts them one by one instead, ``sandbox.population.audience.rowwise``).
Then they become a level, merged with the levels above it while those are not much larger (``GROWTH``):
log-structured, so a profile is indexed again about log4(overlay / FRESH_MIN) times; never the base.

Each part keeps what its caller learnt about it (``Part.memo``: the audience service keeps estimate counts
there) and the rows that stopped being current since (``Part.dead``: the base's written rows, a level's
superseded ones, in order), so a kept count is brought up to date by taking those rows off, not by counting
again; and ``index_fresh`` tells what a new level is made of, so the caller can carry over its tree masks
and counts instead of evaluating the new level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sandbox.population.audience.index import Index

Profile = dict[str, Any]

FRESH_MIN = 32
"""Fresh profiles (module docstring) become a level once there are this many..."""
GROWTH = 4
"""...which takes in every level above it of at most ``GROWTH`` times its size."""
FRESH_MAX = 2 * FRESH_MIN
"""Fresh profiles a caller may ask to keep fresh a little longer (``indexed_parts``): beyond this many (a
burst of writes with no query between them) one index over them costs less than reading them one by one."""
MEMO_TREES = 64
"""Trees whose counts over a tenant's fresh profiles are kept (``Overlay.fresh_memo``)."""


@dataclass(slots=True)
class Part:
    """One slice of a tenant's view: an index, which of its rows are current, and their rows in the view."""

    index: Index
    live: np.ndarray | None
    """bool[index.n]: rows that are the tenant's current version (None: all of them)."""
    rows: np.ndarray | None
    """int64[index.n]: the view row of each index row (None: the same row, i.e. the base)."""
    dead: list[int] | np.ndarray | None = None
    """Rows no longer current, in the order they stopped being (an overlay level's; the base's are
    ``Overlay.written_base_rows``): counts kept in ``memo`` take them off as they come."""
    memo: dict[Any, Any] | None = None
    """The caller's cache for this part (the audience service keeps estimate counts there)."""

    def view_rows(self, rows: np.ndarray) -> np.ndarray:
        return rows if self.rows is None else self.rows[rows]


@dataclass(slots=True)
class _Segment:
    index: Index
    identities: list[str]
    position: dict[str, int]
    rows: np.ndarray
    live: np.ndarray
    dead: list[int] = field(default_factory=list)
    memo: dict[Any, Any] = field(default_factory=dict)

    def part(self) -> Part:
        return Part(self.index, self.live, self.rows, self.dead, self.memo)


class Overlay:
    """One tenant's writes (see the module docstring)."""

    def __init__(self, base: Index, base_row: Callable[[str], int | None]) -> None:
        self.base = base
        self.base_n = base.n
        self._base_row = base_row
        self.profiles: dict[str, Profile | None] = {}
        """identity -> the tenant's current version (None: deleted), in the order first written."""
        self.rows: dict[str, int] = {}
        """identity -> view row (its base row, or ``base_n + k`` for the k-th identity the tenant created)."""
        self.identity_at: dict[int, str] = {}
        self.created = 0
        self.base_live = np.ones(self.base_n, dtype=bool)
        """Base rows the tenant has not written."""
        self._written_base = np.empty(16, dtype=np.int64)
        self._written_count = 0
        self._maps: dict[str, dict[str, str]] = {}
        self._pending: dict[str, None] = {}
        self._levels: list[_Segment] = []
        self.fresh: dict[str, None] = {}
        """Identities written since the last indexed level (in no level: ``fresh_profiles``)."""
        self._fresh_segment: _Segment | None = None
        self.base_memo: dict[Any, Any] = {}
        """The caller's cache for the base part (``Part.memo``)."""
        self.fresh_memo: dict[Any, Any] = {}
        """The caller's cache for the fresh profiles, per tree (at most ``MEMO_TREES``; emptied when they
        become a level)."""

    @property
    def size(self) -> int:
        """Rows in the tenant's view."""
        return self.base_n + self.created

    def __len__(self) -> int:
        """Profiles the tenant's view holds."""
        alive = sum(1 for p in self.profiles.values() if p is not None)
        return self.base_n - int(np.count_nonzero(~self.base_live)) + alive

    # -- writes ----------------------------------------------------------------------------------
    def write(self, identity: str, profile: Profile | None) -> None:
        """Make ``profile`` the tenant's version of ``identity`` (``None`` deletes it)."""
        row = self.rows.get(identity)
        if row is None:
            row = self._base_row(identity)
            if row is None:
                row = self.base_n + self.created
                self.created += 1
            else:
                self.base_live[row] = False
                if self._written_count == len(self._written_base):
                    self._written_base = np.resize(self._written_base, 2 * len(self._written_base))
                self._written_base[self._written_count] = row
                self._written_count += 1
            self.rows[identity] = row
            self.identity_at[row] = identity
        self._unmap(identity)
        self.profiles[identity] = profile
        if profile is not None:
            for key, mapping in self._maps.items():
                value = profile.get(key)
                if value is not None:
                    mapping[str(value)] = identity
        self._pending[identity] = None

    def _unmap(self, identity: str) -> None:
        previous = self.profiles.get(identity)
        if previous is None:
            return
        for key, mapping in self._maps.items():
            value = previous.get(key)
            if value is not None and mapping.get(str(value)) == identity:
                del mapping[str(value)]

    # -- lookups ---------------------------------------------------------------------------------
    def lookup(self, key: str, value: str) -> Profile | None:
        """The tenant's profile whose ``key`` is ``value`` (the latest written wins)."""
        mapping = self._maps.get(key)
        if mapping is None:
            mapping = self._maps[key] = {str(v): identity for identity, p in self.profiles.items()
                                         if p is not None and (v := p.get(key)) is not None}
        identity = mapping.get(value)
        return None if identity is None else self.profiles[identity]

    def written_base_rows(self) -> np.ndarray:
        """The base rows the tenant has written (its version, or its deletion, replaces them), in the order
        first written."""
        return self._written_base[:self._written_count]

    def at(self, row: int) -> Profile | None:
        """The tenant's version at view ``row``, None when that row is the base's (or deleted)."""
        identity = self.identity_at.get(row)
        return None if identity is None else self.profiles[identity]

    # -- queries ---------------------------------------------------------------------------------
    def current(self, row: int) -> tuple[Index, int] | None:
        """(index, position) of the tenant's current version at view ``row`` (None if deleted or unknown)."""
        identity = self.identity_at.get(row)
        if identity is None:
            return (self.base, row) if row < self.base_n else None
        self._refresh()
        levels = self._levels if identity not in self.fresh else [self._fresh()]
        for level in reversed(levels):
            pos = level.position.get(identity)
            if pos is not None:
                return (level.index, pos) if bool(level.live[pos]) and bool(level.index.alive[pos]) else None
        return None

    def parts(self) -> list[Part]:
        """The base and the overlay's levels (the fresh profiles' one included), each with the rows that are
        current (module docstring)."""
        parts = self.indexed_parts()
        if self.fresh:
            parts.append(self._fresh().part())
        return parts

    def indexed_parts(self, *, index_fresh: bool = True) -> list[Part]:
        """``parts`` but for the fresh profiles (``fresh_profiles``). With ``index_fresh=False`` fresh profiles
        stay fresh unless there are ``FRESH_MAX`` of them: the caller then calls ``index_fresh`` when
        ``full``."""
        self._refresh(index_fresh)
        return [Part(self.base, self.base_live, None, self.written_base_rows(), self.base_memo),
                *(level.part() for level in self._levels)]

    def fresh_profiles(self) -> list[tuple[str, Profile | None]]:
        """(identity, current version or None if deleted) of the profiles written since the last indexed
        level, which ``indexed_parts`` leaves out."""
        self._refresh(False)
        profiles = self.profiles
        return [(identity, profiles[identity]) for identity in self.fresh]

    def fresh_at(self, row: int) -> tuple[Profile | None] | None:
        """``(version,)`` (None: deleted) when view ``row`` holds a fresh profile (``fresh_profiles``), else
        None."""
        identity = self.identity_at.get(row)
        if identity is None:
            return None
        self._refresh(False)
        return (self.profiles[identity],) if identity in self.fresh else None

    def fresh_part(self) -> Part | None:
        """The fresh profiles as a part (an index over them, built when first asked for); None if none."""
        self._refresh(False)
        return self._fresh().part() if self.fresh else None

    @property
    def full(self) -> bool:
        """Whether the fresh profiles are many enough to become a level (``index_fresh``)."""
        return len(self.fresh) >= FRESH_MIN

    def _fresh(self) -> _Segment:
        if self._fresh_segment is None:
            self._fresh_segment = self._segment(list(self.fresh))
        return self._fresh_segment

    def _refresh(self, index_fresh: bool = True) -> None:
        if self._pending:
            pending = self._pending
            self._pending = {}
            self._fresh_segment = None
            new = [identity for identity in pending if identity not in self.fresh]
            for level in self._levels:  # their versions of these identities are superseded
                stale = [pos for identity in new if (pos := level.position.get(identity)) is not None
                         and level.live[pos]]
                if stale:
                    live = level.live.copy()
                    live[stale] = False
                    level.live = live
                    level.dead.extend(stale)
            self.fresh.update(dict.fromkeys(new))
        if self.full and (index_fresh or len(self.fresh) >= FRESH_MAX):
            self.index_fresh()

    def index_fresh(self) -> tuple[list[Part], list[str], Part]:
        """Make the fresh profiles a level, with the levels above it that are not much larger (``GROWTH``).
        Returns the levels it took in (oldest first, as they were), the fresh identities, and the new level:
        its rows are those levels' current rows in that order, then the fresh profiles in that order (so a
        caller can carry over what it knows of them)."""
        fresh = list(self.fresh)
        self.fresh = {}
        self.fresh_memo = {}
        self._fresh_segment = None
        merged = fresh
        taken: list[Part] = []
        while self._levels and len(self._levels[-1].identities) <= GROWTH * len(merged):
            level = self._levels.pop()  # its other rows' identities are fresh or in a newer level
            taken.append(level.part())
            identities = level.identities
            merged = [identities[i] for i in np.flatnonzero(level.live).tolist()] + merged
        segment = self._segment(merged)
        self._levels.append(segment)
        return taken[::-1], fresh, segment.part()

    def _segment(self, identities: list[str]) -> _Segment:
        profiles = [self.profiles[identity] for identity in identities]
        index = Index([p if p is not None else {} for p in profiles], self.base.reference_ts)
        index.alive = np.array([p is not None for p in profiles], dtype=bool)
        return _Segment(index, identities, {identity: i for i, identity in enumerate(identities)},
                        np.array([self.rows[identity] for identity in identities], dtype=np.int64),
                        np.ones(len(identities), dtype=bool))

    # -- persistence -----------------------------------------------------------------------------
    def export(self) -> list[list[Any]]:
        """``[[identity, profile | None], ...]`` in first-written order (replaying it rebuilds the rows)."""
        return [[identity, profile] for identity, profile in self.profiles.items()]

    def replay(self, writes: Iterable[Any]) -> None:
        for identity, profile in writes:
            self.write(str(identity), None if profile is None else dict(profile))
