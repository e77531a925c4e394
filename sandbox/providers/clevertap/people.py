"""The population as the CleverTap provider sees it: one seam over the vendor-neutral engine.

Until the shared population service is wired into the app this builds its own (same profile, seed and
size settings as the shared one), lazily on the first query so apps that never ask pay nothing.
"""

from __future__ import annotations

from typing import Any

from ...audience import Index
from ...settings import Settings


class People:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._index: Index | None = None

    def index(self) -> Index:
        if self._index is None:
            from ... import population
            from ...store import Store, load_population

            profile = population.load_profile(self.settings.population)
            store = Store.memory()
            load_population(store, profile, seed=self.settings.seed, size=self.settings.population_size)
            reference = population.parse_timestamp(profile.get("reference_date", population.DEFAULT_REFERENCE_DATE))
            self._index = Index.build(store.profile_list(), reference)
        return self._index

    def find(self, value: str) -> dict[str, Any] | None:
        index = self.index()
        row = index.row_of(value)
        return None if row is None else index.profiles[row]

    def find_by(self, key: str, value: str) -> dict[str, Any] | None:
        index = self.index()
        row = index.row_of(value, keys=(key,))
        return None if row is None else index.profiles[row]
