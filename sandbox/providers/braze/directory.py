"""Braze user profiles of one tenant, addressable by ``external_id``, alias, ``braze_id`` and email.

Profiles are kept in Braze's export shape (spec §9.2 ``/users/export/ids``): standard fields at the top,
``custom_attributes``, ``custom_events``, ``purchases``, ``user_aliases``. Written by ``/users/track``,
``/users/alias/new``, ``/users/identify`` and send ``attributes``; read by sends and exports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

STANDARD_FIELDS = frozenset({
    "first_name", "last_name", "email", "phone", "country", "language", "dob", "gender", "home_city",
    "email_subscribe", "push_subscribe", "time_zone", "current_location", "push_tokens", "date_of_first_session",
    "date_of_last_session", "facebook", "twitter", "image_url", "email_open_tracking_disabled",
    "email_click_tracking_disabled",
})
"""User attributes object's standard profile fields [V-doc user_attributes_object.md] (spec §9.1)."""
NOT_ATTRIBUTES = frozenset({"external_id", "braze_id", "user_alias", "_update_existing_only", "app_id",
                            "subscription_groups"})


def alias_key(alias: Mapping[str, Any]) -> tuple[str, str]:
    return str(alias.get("alias_label", "")), str(alias.get("alias_name", ""))


class Directory:
    """Profiles of one tenant with indexes per identifier kind."""

    def __init__(self, new_braze_id: Callable[[], str]) -> None:
        self._new_braze_id = new_braze_id
        self._profiles: dict[str, dict[str, Any]] = {}
        """By braze_id."""
        self._external: dict[str, str] = {}
        self._aliases: dict[tuple[str, str], str] = {}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._profiles.values())

    def __len__(self) -> int:
        return len(self._profiles)

    # -- lookup -----------------------------------------------------------------------------------
    def by_external_id(self, external_id: str) -> dict[str, Any] | None:
        braze_id = self._external.get(external_id)
        return None if braze_id is None else self._profiles[braze_id]

    def by_alias(self, alias: Mapping[str, Any]) -> dict[str, Any] | None:
        braze_id = self._aliases.get(alias_key(alias))
        return None if braze_id is None else self._profiles[braze_id]

    def by_braze_id(self, braze_id: str) -> dict[str, Any] | None:
        return self._profiles.get(braze_id)

    def by_email(self, email: str) -> list[dict[str, Any]]:
        wanted = email.lower()
        return [p for p in self._profiles.values() if str(p.get("email", "")).lower() == wanted]

    def by_phone(self, phone: str) -> list[dict[str, Any]]:
        return [p for p in self._profiles.values() if p.get("phone") == phone]

    # -- writes -----------------------------------------------------------------------------------
    def create(self, *, external_id: str | None = None, alias: Mapping[str, Any] | None = None,
               email: str | None = None, phone: str | None = None) -> dict[str, Any]:
        braze_id = self._new_braze_id()
        profile: dict[str, Any] = {"created_at": None, "braze_id": braze_id, "user_aliases": [],
                                   "custom_attributes": {}, "custom_events": [], "purchases": []}
        self._profiles[braze_id] = profile
        if external_id is not None:
            self.set_external_id(profile, external_id)
        if alias is not None:
            self.add_alias(profile, alias)
        if email is not None:
            profile["email"] = email
        if phone is not None:
            profile["phone"] = phone
        return profile

    def set_external_id(self, profile: dict[str, Any], external_id: str) -> None:
        profile["external_id"] = external_id
        self._external[external_id] = profile["braze_id"]

    def add_alias(self, profile: dict[str, Any], alias: Mapping[str, Any]) -> None:
        key = alias_key(alias)
        if key in self._aliases:
            return
        profile["user_aliases"].append({"alias_name": key[1], "alias_label": key[0]})
        self._aliases[key] = profile["braze_id"]

    def delete(self, profile: Mapping[str, Any]) -> None:
        braze_id = profile["braze_id"]
        self._profiles.pop(braze_id, None)
        self._external = {k: v for k, v in self._external.items() if v != braze_id}
        self._aliases = {k: v for k, v in self._aliases.items() if v != braze_id}

    def merge_into(self, target: dict[str, Any], source: dict[str, Any]) -> None:
        """Identify: the alias-only profile ``source`` joins ``target`` (aliases, attributes, events)."""
        if source is target:
            return
        for alias in source["user_aliases"]:
            self._aliases[alias_key(alias)] = target["braze_id"]
            if alias not in target["user_aliases"]:
                target["user_aliases"].append(alias)
        for key, value in source.items():
            if key in STANDARD_FIELDS:
                target.setdefault(key, value)
        for key, value in source["custom_attributes"].items():
            target["custom_attributes"].setdefault(key, value)
        target["custom_events"].extend(source["custom_events"])
        target["purchases"].extend(source["purchases"])
        self._profiles.pop(source["braze_id"], None)


def apply_attributes(profile: dict[str, Any], attributes: Mapping[str, Any]) -> None:
    """Standard fields replace; custom attributes support ``{"inc"}``, ``{"add"}``, ``{"remove"}``, null."""
    for key, value in attributes.items():
        if key in NOT_ATTRIBUTES:
            if key == "subscription_groups" and isinstance(value, list):
                groups = profile.setdefault("subscription_groups", {})
                for item in value:
                    if isinstance(item, Mapping) and "subscription_group_id" in item:
                        groups[str(item["subscription_group_id"])] = item.get("subscription_state")
            continue
        if key in STANDARD_FIELDS:
            if value is None:
                profile.pop(key, None)
            else:
                profile[key] = value
            continue
        custom = profile["custom_attributes"]
        if value is None:
            custom.pop(key, None)
        elif isinstance(value, Mapping) and "inc" in value:
            custom[key] = (custom.get(key) or 0) + value["inc"]
        elif isinstance(value, Mapping) and ("add" in value or "remove" in value):
            current = [v for v in custom.get(key) or [] if v not in (value.get("remove") or [])]
            current += [v for v in value.get("add") or [] if v not in current]
            custom[key] = current
        else:
            custom[key] = value


def display_id(profile: Mapping[str, Any] | None, fallback: str) -> str:
    """How a delivery names its user: external id, else ``alias_label:alias_name``, else braze_id."""
    if profile is None:
        return fallback
    if profile.get("external_id") is not None:
        return str(profile["external_id"])
    if profile.get("user_aliases"):
        alias = profile["user_aliases"][0]
        return f"{alias['alias_label']}:{alias['alias_name']}"
    return str(profile["braze_id"])
