"""Braze users in the shared population (``keys.AUDIENCE``, docs/services.md).

Braze identifiers map onto population profiles: ``external_id`` = ``external_id``/``identity``, ``braze_id``
= ``internal_id``, email and phone as they are; aliases live on the profile (``user_aliases``) and in a
per-tenant index. Standard attributes map to the population's fields, custom attributes to
``properties``, ``email_subscribe``/``push_subscribe`` to ``reachability``, events and purchases to
``events`` (purchases as the event ``purchase`` [INF]). Profiles are immutable: every write returns the
new profile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sandbox.population.audience.service import AudienceService

STANDARD_FIELDS: dict[str, str] = {
    "first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone",
    "country": "country", "language": "language", "dob": "dob", "gender": "gender", "home_city": "city",
    "time_zone": "time_zone", "current_location": "current_location", "image_url": "image_url",
    "date_of_first_session": "signup_date",
}
"""User attributes object's standard fields [V-doc user_attributes_object.md] -> population fields."""
SUBSCRIPTIONS = {"email_subscribe": ("email",), "push_subscribe": ("push", "webpush")}
IGNORED = frozenset({"external_id", "braze_id", "user_alias", "_update_existing_only", "app_id"})
PURCHASE_EVENT = "purchase"
"""Population event name of a Braze purchase [INF]."""
ALIAS_PREFIX = "braze-alias:"
"""Identity of a profile without external id (alias-only / email-only): prefix + its braze_id [INF]."""

AliasKey = tuple[str, str]


def alias_key(alias: Mapping[str, Any]) -> AliasKey:
    return str(alias.get("alias_label", "")), str(alias.get("alias_name", ""))


class People:
    """One tenant's view: lookups by any Braze identifier and writes through the population service."""

    def __init__(self, service: AudienceService, tenant: str, aliases: dict[AliasKey, str],
                 new_braze_id: Callable[[], str], now: Callable[[], str]) -> None:
        self.service = service
        self.tenant = tenant
        self.aliases = aliases
        self._new_braze_id = new_braze_id
        self._now = now

    # -- lookups ------------------------------------------------------------------------------------
    def by_external_id(self, external_id: str) -> dict[str, Any] | None:
        return self.service.find(external_id, ("external_id",), tenant=self.tenant)

    def by_braze_id(self, braze_id: str) -> dict[str, Any] | None:
        return self.service.find(braze_id, ("internal_id",), tenant=self.tenant)

    def by_alias(self, alias: Mapping[str, Any]) -> dict[str, Any] | None:
        identity = self.aliases.get(alias_key(alias))
        return None if identity is None else self.service.find(identity, ("identity",), tenant=self.tenant)

    def by_email(self, email: str) -> list[dict[str, Any]]:
        found = self.service.find(email, ("email",), tenant=self.tenant)
        return [] if found is None else [found]

    def by_phone(self, phone: str) -> list[dict[str, Any]]:
        found = self.service.find(phone, ("phone",), tenant=self.tenant)
        return [] if found is None else [found]

    # -- writes -------------------------------------------------------------------------------------
    def create(self, *, external_id: str | None = None, alias: Mapping[str, Any] | None = None,
               email: str | None = None, phone: str | None = None) -> dict[str, Any]:
        braze_id = self._new_braze_id()
        profile = {"identity": external_id if external_id is not None else ALIAS_PREFIX + braze_id,
                   "external_id": external_id, "internal_id": braze_id, "signup_date": self._now(),
                   "properties": {}, "events": [], "devices": [], "reachability": {}, "user_aliases": []}
        if email is not None:
            profile["email"] = email
        if phone is not None:
            profile["phone"] = phone
        stored = self.service.upsert(profile, tenant=self.tenant)
        return stored if alias is None else self.add_alias(stored, alias)

    def update(self, profile: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
        return self.service.update(profile["identity"], changes, tenant=self.tenant)

    def add_alias(self, profile: Mapping[str, Any], alias: Mapping[str, Any]) -> dict[str, Any]:
        key = alias_key(alias)
        if key in self.aliases:
            return dict(profile)
        self.aliases[key] = profile["identity"]
        entry = {"alias_name": key[1], "alias_label": key[0]}
        return self.update(profile, {"user_aliases": [*profile.get("user_aliases", []), entry]})

    def set_external_id(self, profile: Mapping[str, Any], external_id: str) -> dict[str, Any]:
        """Identify an alias-/email-only profile: it takes the external id (and that identity)."""
        self.service.delete(profile["identity"], tenant=self.tenant)
        renamed = self.service.upsert({**profile, "identity": external_id, "external_id": external_id},
                                      tenant=self.tenant)
        self._repoint(profile["identity"], external_id)
        return renamed

    def merge_into(self, target: Mapping[str, Any], source: Mapping[str, Any]) -> dict[str, Any]:
        """Identify onto an existing user: aliases, missing fields, properties and events move over."""
        if source["identity"] == target["identity"]:
            return dict(target)
        changes: dict[str, Any] = {k: v for k, v in source.items()
                                   if k in STANDARD_FIELDS.values() and target.get(k) is None}
        changes["properties"] = {**source.get("properties", {}), **target.get("properties", {})}
        changes["events"] = sorted([*target.get("events", []), *source.get("events", [])], key=lambda e: e["ts"])
        aliases = list(target.get("user_aliases", []))
        changes["user_aliases"] = aliases + [a for a in source.get("user_aliases", []) if a not in aliases]
        self.service.delete(source["identity"], tenant=self.tenant)
        self._repoint(source["identity"], target["identity"])
        return self.update(target, changes)

    def _repoint(self, old: str, new: str) -> None:
        for key, identity in list(self.aliases.items()):
            if identity == old:
                self.aliases[key] = new

    def delete(self, profile: Mapping[str, Any]) -> None:
        self.service.delete(profile["identity"], tenant=self.tenant)
        for key, identity in list(self.aliases.items()):
            if identity == profile["identity"]:
                del self.aliases[key]

    def apply_attributes(self, profile: Mapping[str, Any], attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Standard fields replace; custom attributes take ``{"inc"}``, ``{"add"}``, ``{"remove"}`` or null."""
        changes: dict[str, Any] = {}
        properties = dict(profile.get("properties") or {})
        reachability = {k: dict(v) for k, v in (profile.get("reachability") or {}).items()}
        for key, value in attributes.items():
            if key in IGNORED:
                continue
            if key in STANDARD_FIELDS:
                changes[STANDARD_FIELDS[key]] = value
            elif key in SUBSCRIPTIONS:
                for channel in SUBSCRIPTIONS[key]:
                    reachability.setdefault(channel, {"invalid": False, "dnd": False})["state"] = value
                changes["reachability"] = reachability
            elif key == "subscription_groups" and isinstance(value, list):
                groups = dict(profile.get("subscription_groups") or {})
                groups.update({str(g["subscription_group_id"]): g.get("subscription_state") for g in value
                               if isinstance(g, Mapping) and "subscription_group_id" in g})
                changes["subscription_groups"] = groups
            elif key == "push_tokens" and isinstance(value, list):
                changes["devices"] = [*profile.get("devices", []), *(
                    {"platform": token_platform(str(t.get("token", ""))), "token": str(t.get("token", "")),
                     "last_active": None} for t in value if isinstance(t, Mapping))]
            else:
                _custom(properties, key, value)
        if properties != (profile.get("properties") or {}):
            changes["properties"] = properties
        if not changes:
            return dict(profile)
        merged = self.service.update(profile["identity"], {k: v for k, v in changes.items() if k != "properties"},
                                     tenant=self.tenant)
        if "properties" in changes:  # replace (not merge) so removed custom attributes go away
            merged = self.service.upsert({**merged, "properties": changes["properties"]}, tenant=self.tenant)
        return merged

    def add_event(self, profile: Mapping[str, Any], name: str, ts: float, props: Mapping[str, Any]) -> None:
        self.service.add_event(profile["identity"], name, ts, props, tenant=self.tenant)


def token_platform(token: str) -> str:
    """APNs device tokens are 64 hex characters, anything else is taken for an FCM token [INF]."""
    return "ios" if len(token) == 64 and all(c in "0123456789abcdefABCDEF" for c in token) else "android"


def _custom(properties: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        properties.pop(key, None)
    elif isinstance(value, Mapping) and "inc" in value:
        current = properties.get(key)
        properties[key] = (current if isinstance(current, (int, float)) else 0) + value["inc"]
    elif isinstance(value, Mapping) and ("add" in value or "remove" in value):
        current = properties.get(key)
        items = [v for v in (current if isinstance(current, list) else []) if v not in (value.get("remove") or [])]
        properties[key] = items + [v for v in value.get("add") or [] if v not in items]
    else:
        properties[key] = value


def display_id(profile: Mapping[str, Any] | None, fallback: str) -> str:
    """How a delivery names its user: external id, else ``alias_label:alias_name``, else braze_id."""
    if profile is None:
        return fallback
    if profile.get("external_id") is not None:
        return str(profile["external_id"])
    if profile.get("user_aliases"):
        alias = profile["user_aliases"][0]
        return f"{alias['alias_label']}:{alias['alias_name']}"
    return str(profile["internal_id"])


def export(profile: Mapping[str, Any]) -> dict[str, Any]:
    """A profile in ``/users/export/ids`` shape (spec §9.2)."""
    reach = profile.get("reachability") or {}
    events = [e for e in profile.get("events", []) if e["name"] != PURCHASE_EVENT]
    purchases = [e for e in profile.get("events", []) if e["name"] == PURCHASE_EVENT]
    return {
        "created_at": profile.get("signup_date"), "external_id": profile.get("external_id"),
        "user_aliases": profile.get("user_aliases") or None, "braze_id": profile.get("internal_id"),
        "first_name": profile.get("first_name"), "last_name": profile.get("last_name"),
        "email": profile.get("email"), "phone": profile.get("phone"), "dob": profile.get("dob"),
        "country": profile.get("country"), "home_city": profile.get("city"), "language": profile.get("language"),
        "gender": profile.get("gender"), "time_zone": profile.get("time_zone"),
        "push_subscribe": (reach.get("push") or {}).get("state"),
        "email_subscribe": (reach.get("email") or {}).get("state"),
        "custom_attributes": profile.get("properties") or None,
        "custom_events": _summary(events, lambda e: e["name"]) or None,
        "purchases": _summary(purchases, lambda e: str(e["props"].get("product_id"))) or None,
        "devices": [{"platform": d.get("platform"), "token": d.get("token")} for d in profile.get("devices", [])]
        or None,
    }


def _summary(events: list[Mapping[str, Any]], name: Callable[[Mapping[str, Any]], str]) -> list[dict[str, Any]]:
    from sandbox.providers.braze.timeparse import iso

    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        row = rows.setdefault(name(event), {"name": name(event), "first": iso(event["ts"]), "last": iso(event["ts"]),
                                            "count": 0})
        row["count"] += int(event["props"].get("quantity", 1)) if event["name"] == PURCHASE_EVENT else 1
        row["last"] = iso(event["ts"])
    return list(rows.values())
