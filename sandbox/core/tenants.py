"""``TenantState[T]``: the one way a vendor keeps mutable state, one ``T`` per tenant.

The tenant is the unit of state (docs/architecture.md, "Tenants"): a vendor's campaigns, schedules, lists,
run-time dashboard additions and id counters live in a ``T`` made on the tenant's first use, so one tenant's
calls never change what another sees, and ``reset(tenant)`` restores exactly that tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

NO_TENANT = ""
"""The key of requests that name no tenant (control calls without ``?tenant=``)."""


class TenantState(Generic[T]):
    """A ``T`` per tenant, made by ``factory(tenant)`` on first use."""

    __slots__ = ("_factory", "_items")

    def __init__(self, factory: Callable[[str], T]) -> None:
        self._factory = factory
        self._items: dict[str, T] = {}

    def __getitem__(self, tenant: str | None) -> T:
        key = tenant or NO_TENANT
        found = self._items.get(key)
        if found is None:
            found = self._items[key] = self._factory(key)
        return found

    def get(self, tenant: str | None) -> T | None:
        """This tenant's state if it has any yet (never makes one)."""
        return self._items.get(tenant or NO_TENANT)

    def __contains__(self, tenant: object) -> bool:
        return (tenant or NO_TENANT) in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, T]]:
        return list(self._items.items())

    def select(self, tenant: str | None) -> list[tuple[str, T]]:
        """The one tenant's (tenant, state) pair, or every pair when ``tenant`` is None."""
        if tenant is None:
            return self.items()
        return [(tenant, self[tenant])]

    def reset(self, tenant: str | None) -> None:
        """Forget one tenant (it starts afresh on next use), or every tenant when None."""
        if tenant is None:
            self._items.clear()
        else:
            self._items.pop(tenant, None)

    def export_state(self) -> dict[str, T]:
        return dict(self._items)

    def import_state(self, data: dict[str, T]) -> None:
        self._items = dict(data)
