"""``Dashboard[T]``: objects made in a vendor's dashboard that requests refer to by id (channels, campaigns,
templates, lists, segments...), and the learn/strict rule for references the sandbox has no record of.

Where an object comes from, first match wins: this tenant's run-time additions and provisioned objects, the
run-time additions for every tenant, then the fixtures (packaged + ``--fixtures`` overlay).

``resolve`` is the one place the rule lives (docs/architecture.md, "Account data: learn and strict"):
- learn (default): an unknown id is provisioned for this tenant, shaped by the request that named it, marked
  ``provisioned``, and noted on the request's journal entry; from then on it behaves like a fixture object;
- strict (``--strict`` or the vendor's own setting): the vendor's exact rejection, with a ``hint`` on the
  journal entry naming the fixture file and the control-API collection that would make it valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sandbox.core.errors import SandboxError
from sandbox.core.operations import Call
from sandbox.core.tenants import TenantState

T = TypeVar("T")


@dataclass(slots=True)
class Held(Generic[T]):
    item: T
    provisioned: bool = False


class Dashboard(Generic[T]):
    """One collection of one vendor (e.g. CleverTap's notification channels) keyed by id (a string)."""

    def __init__(self, vendor: str, collection: str, fixture_file: str,
                 fixtures: Mapping[str, T] | None = None) -> None:
        self.vendor = vendor
        self.collection = collection
        self.fixture_file = fixture_file
        """Where users declare these objects, e.g. ``clevertap/account.json`` (for hints)."""
        self.fixtures: dict[str, T] = dict(fixtures or {})
        self.everyone: dict[str, T] = {}
        """Run-time additions without a tenant (``POST /_sandbox/vendors/...`` without ``?tenant=``)."""
        self.tenants: TenantState[dict[str, Held[T]]] = TenantState(lambda _tenant: {})

    # -- lookups -------------------------------------------------------------------------------
    def get(self, tenant: str | None, item_id: Any) -> T | None:
        key = str(item_id)
        held = self.tenants.get(tenant)
        if held is not None and key in held:
            return held[key].item
        found = self.everyone.get(key)
        return found if found is not None else self.fixtures.get(key)

    def items(self, tenant: str | None) -> Iterator[tuple[str, T, bool]]:
        """(id, object, provisioned) for every object this tenant sees, fixtures first."""
        held = self.tenants.get(tenant) or {}
        merged: dict[str, tuple[T, bool]] = {k: (v, False) for k, v in self.fixtures.items()}
        merged.update({k: (v, False) for k, v in self.everyone.items()})
        merged.update({k: (h.item, h.provisioned) for k, h in held.items()})
        for key, (item, provisioned) in merged.items():
            yield key, item, provisioned

    def ids(self, tenant: str | None) -> list[str]:
        return [key for key, _item, _p in self.items(tenant)]

    def provisioned(self, tenant: str | None, item_id: Any) -> bool:
        held = (self.tenants.get(tenant) or {}).get(str(item_id))
        return held is not None and held.provisioned

    # -- writes --------------------------------------------------------------------------------
    def add(self, tenant: str | None, item_id: Any, item: T, *, provisioned: bool = False) -> T:
        if tenant is None:
            self.everyone[str(item_id)] = item
        else:
            self.tenants[tenant][str(item_id)] = Held(item, provisioned)
        return item

    def remove(self, tenant: str | None, item_id: Any) -> bool:
        key = str(item_id)
        if tenant is None:
            return self.everyone.pop(key, None) is not None
        held = self.tenants.get(tenant)
        return held is not None and held.pop(key, None) is not None

    def reset(self, tenant: str | None) -> None:
        self.tenants.reset(tenant)
        if tenant is None:
            self.everyone.clear()

    # -- the learn/strict rule -----------------------------------------------------------------
    def resolve(self, call: Call[Any], item_id: Any, make: Callable[[], T],
                reject: Callable[[], SandboxError]) -> T:
        """The object ``item_id`` names for this call's tenant: known, provisioned (learn), or ``reject()``
        raised with a hint (strict)."""
        found = self.get(call.tenant, item_id)
        if found is not None:
            return found
        if call.provider.strict:
            call.hint = self.hint(item_id)
            raise reject()
        item = self.add(call.tenant or "", item_id, make(), provisioned=True)
        call.note(f"provisioned {self.vendor} {self.collection} {str(item_id)!r} (learn mode; --strict rejects "
                  "unknown references)")
        return item

    def hint(self, item_id: Any) -> str:
        return (f"{self.vendor} has no {self.collection} {str(item_id)!r}: declare it in "
                f"--fixtures DIR/{self.fixture_file}, or add it at run time with POST "
                f"/_sandbox/vendors/{self.vendor}/{self.collection}; without --strict it is learned on first use")

    # -- persistence ---------------------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        return {"everyone": dict(self.everyone), "tenants": self.tenants.export_state()}

    def import_state(self, data: dict[str, Any]) -> None:
        self.everyone = dict(data["everyone"])
        self.tenants.import_state(data["tenants"])


class Dashboards:
    """A vendor's collections by name. Subclasses build them and name them in ``by_name``; resetting,
    persisting, listing and removing work alike for every vendor."""

    def by_name(self) -> Mapping[str, Dashboard[Any]]:
        raise NotImplementedError

    def listed(self, collection: str, tenant: str | None,
               show: Callable[[str, Any], dict[str, Any]]) -> list[dict[str, Any]]:
        """What ``collection`` holds for ``tenant``, each item as ``show(id, item)`` shows it, learned ones
        marked ``"provisioned": true``."""
        return [{**show(key, item), "provisioned": True} if provisioned else show(key, item)
                for key, item, provisioned in self.by_name()[collection].items(tenant)]

    def remove(self, collection: str, item_id: str, tenant: str | None) -> bool:
        return self.by_name()[collection].remove(tenant, item_id)

    def reset(self, tenant: str | None) -> None:
        for dashboard in self.by_name().values():
            dashboard.reset(tenant)

    def export_state(self) -> dict[str, Any]:
        return {name: dashboard.export_state() for name, dashboard in self.by_name().items()}

    def import_state(self, data: Mapping[str, Any]) -> None:
        for name, dashboard in self.by_name().items():
            if name in data:
                dashboard.import_state(data[name])
