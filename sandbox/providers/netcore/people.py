"""Netcore contacts <-> profiles of the shared population (docs/services.md, ``keys.AUDIENCE``).

Netcore names a contact by one of its primary keys, ``CUSTOMER_ID``, ``EMAIL`` or ``MOBILE`` (spec §6.1), and
its attributes in upper case (``FIRST_NAME``...). A contact is stored as a population profile: CUSTOMER_ID is
the profile's identity (else the email, else the mobile; a CUSTOMER_ID given later becomes its
``external_id``), EMAIL/MOBILE/FIRST_NAME... map to the standard
fields, any other attribute goes into ``properties``, and ``PLATFORM`` (android/ios/web) gives the contact a
device so app push can reach it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sandbox.population.audience.service import AudienceService

FIELDS = {"EMAIL": "email", "MOBILE": "phone", "FIRST_NAME": "first_name", "LAST_NAME": "last_name",
          "NAME": "name", "CITY": "city", "COUNTRY": "country", "GENDER": "gender", "AGE": "age",
          "LANGUAGE": "language"}
"""Netcore attribute -> standard profile field."""
IDENTITY_KEYS = ("identity", "external_id")
PLATFORMS = ("android", "ios", "web")


def present(value: Any) -> bool:
    return value is not None and value != ""


def phones(mobile: Any) -> list[str]:
    """A Netcore mobile (``919999999999``, often an int) as the population may hold it (E.164 first)."""
    text = str(mobile).strip()
    digits = text.lstrip("+")
    return [f"+{digits}", digits] if digits.isdigit() else [text]


def find(service: AudienceService, attributes: Mapping[str, Any], tenant: str | None) -> dict[str, Any] | None:
    """The profile one of the contact's primary keys names (customer id, then email, then mobile), as
    ``tenant`` sees the population."""
    if present(attributes.get("CUSTOMER_ID")):
        found = service.find(str(attributes["CUSTOMER_ID"]).strip(), IDENTITY_KEYS, tenant=tenant)
        if found is not None:
            return found
    if present(attributes.get("EMAIL")):
        email = str(attributes["EMAIL"]).strip()
        found = (service.find(email, ("email",), tenant=tenant)
                 or service.find(email.lower(), ("email",), tenant=tenant))
        if found is not None:
            return found
    if present(attributes.get("MOBILE")):
        for phone in phones(attributes["MOBILE"]):
            found = service.find(phone, ("phone",), tenant=tenant)
            if found is not None:
                return found
    return None


def identity_of(attributes: Mapping[str, Any]) -> str | None:
    for key in ("CUSTOMER_ID", "EMAIL"):
        if present(attributes.get(key)):
            return str(attributes[key]).strip()
    return phones(attributes["MOBILE"])[0] if present(attributes.get("MOBILE")) else None


def upsert(service: AudienceService, attributes: Mapping[str, Any], tenant: str | None) -> str | None:
    """Create or merge the contact; returns its identity, or None when it names no primary key."""
    existing = find(service, attributes, tenant)
    identity = str(existing["identity"]) if existing is not None else identity_of(attributes)
    if identity is None:
        return None
    changes: dict[str, Any] = {"properties": {}}
    if existing is None:
        changes.update(identity=identity, external_id=identity, events=[], devices=[])
    if present(attributes.get("CUSTOMER_ID")):
        changes["external_id"] = str(attributes["CUSTOMER_ID"]).strip()
    for key, value in attributes.items():
        if not present(value) or key in ("CUSTOMER_ID", "PLATFORM"):
            continue
        if key == "MOBILE":
            changes["phone"] = phones(value)[0]
        elif key in FIELDS:
            changes[FIELDS[key]] = value
        else:
            changes["properties"][key] = value
    platform = str(attributes.get("PLATFORM") or "").lower()
    devices = list((existing or {}).get("devices") or [])
    if platform in PLATFORMS and not any(d.get("platform") == platform for d in devices):
        token = hashlib.md5(f"{identity}:{platform}".encode(), usedforsecurity=False).hexdigest()
        changes["devices"] = [*devices, {"platform": platform, "token": token, "last_active": int(service.now(tenant))}]
    service.update(identity, changes, tenant=tenant)
    return identity


def customer_id(profile: Mapping[str, Any]) -> str:
    """The contact's customer id: its ``external_id`` (set from CUSTOMER_ID; the identity otherwise)."""
    return str(profile.get("external_id") or profile.get("identity"))


def attributes_view(profile: Mapping[str, Any]) -> dict[str, Any]:
    """A profile as Netcore merge tags see it: ``[FIRST_NAME]``, ``[EMAIL]``, ``[CUSTOMER_ID]``, custom ones."""
    view: dict[str, Any] = {k: v for k, v in profile.items() if isinstance(v, str | int | float)}
    view.update({key: profile.get(field) for key, field in FIELDS.items() if present(profile.get(field))})
    view["CUSTOMER_ID"] = customer_id(profile)
    view.update(profile.get("properties") or {})
    return view
