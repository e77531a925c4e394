"""User data (spec §9): /users/track, /users/delete, /users/identify, /users/alias/new, /users/export/ids."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.braze import context, errors, timeparse
from sandbox.providers.braze.context import Context
from sandbox.providers.braze.dispatch import prioritized
from sandbox.providers.braze.errors import BrazeFail
from sandbox.providers.braze.people import PURCHASE_EVENT, People, export

ARRAYS = ("attributes", "events", "purchases")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SUBSCRIPTION_STATES = frozenset({"opted_in", "subscribed", "unsubscribed"})
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
MAX_QUANTITY = 100
EXPORT_FIELDS = ("created_at", "external_id", "user_aliases", "braze_id", "first_name", "last_name", "email",
                 "phone", "dob", "country", "home_city", "language", "gender", "time_zone", "push_subscribe",
                 "email_subscribe", "custom_attributes", "custom_events", "purchases", "devices")
"""``/users/export/ids`` fields, in the docs' order [V-doc post_users_identifier.md] (spec §9.2)."""
EXPORT_IDENTIFIERS = ("external_ids", "user_aliases", "device_id", "braze_id", "email_address", "phone")
DELETE_KINDS = ("external_ids", "user_aliases", "braze_ids", "email_addresses", "phone_numbers")
IDENTIFY_KINDS = ("aliases_to_identify", "emails_to_identify", "phone_numbers_to_identify")
IDENTIFY_COUNTERS = {"aliases_to_identify": "aliases_processed", "emails_to_identify": "emails_processed",
                     "phone_numbers_to_identify": "phone_numbers_processed"}
"""``aliases_processed`` [V-rec]; the two others [INF]."""


# -- /users/track ---------------------------------------------------------------------------------
def identifier_problem(obj: Any, array: str) -> str | None:
    if not isinstance(obj, dict):
        return errors.track_invalid(array)
    primaries = [k for k in ("external_id", "user_alias", "braze_id") if obj.get(k) is not None]
    if len(primaries) > 1:
        return errors.TRACK_ONE_PRIMARY
    if not primaries and obj.get("email") is None and obj.get("phone") is None:
        return errors.TRACK_IDENTIFIER_REQUIRED
    if "external_id" in primaries:
        external = obj["external_id"]
        if isinstance(external, bool) or not isinstance(external, (str, int)):
            return errors.track_invalid("external_id")
        if len(str(external).encode()) > errors.EXTERNAL_ID_MAX_BYTES:
            return errors.TRACK_EXTERNAL_ID_TOO_LARGE
        if str(external).strip().lower() in errors.BLACKLISTED_EXTERNAL_IDS:
            return errors.TRACK_BLACKLISTED
    if "braze_id" in primaries and not isinstance(obj["braze_id"], str):
        return errors.track_invalid("braze_id")
    for name in ("email", "phone"):
        if obj.get(name) is not None and not isinstance(obj[name], str):
            return errors.TRACK_BAD_EMAIL if name == "email" else errors.track_invalid(name)
    if "user_alias" in primaries:
        alias = obj["user_alias"]
        if not isinstance(alias, dict) or not all(isinstance(alias.get(k), str) and alias[k]
                                                  for k in ("alias_name", "alias_label")):
            return errors.track_invalid("user_alias")
    return None


def attributes_problem(obj: Mapping[str, Any]) -> str | None:
    if "email" in obj and obj["email"] is not None and not (isinstance(obj["email"], str)
                                                            and EMAIL.match(obj["email"])):
        return errors.TRACK_BAD_EMAIL
    for name in ("email_subscribe", "push_subscribe"):
        if name in obj and (not isinstance(obj[name], str) or obj[name] not in SUBSCRIPTION_STATES):
            return errors.track_invalid(name)
    return None


def _time_problem(obj: Mapping[str, Any]) -> str | None:
    if obj.get("time") is None:
        return errors.track_required("time")
    if timeparse.parse(obj["time"]) is None:
        return errors.track_invalid("time")
    if "properties" in obj and not isinstance(obj["properties"], dict):
        return errors.track_invalid("properties")
    return None


def event_problem(obj: Mapping[str, Any]) -> str | None:
    if obj.get("name") is None:
        return errors.track_required("name")
    if not isinstance(obj["name"], str) or not obj["name"]:
        return errors.track_invalid("name")
    return _time_problem(obj)


def purchase_problem(obj: Mapping[str, Any]) -> str | None:
    product = obj.get("product_id")
    if product is None:
        return errors.track_required("product_id")
    if isinstance(product, bool) or not isinstance(product, (str, int)) or len(str(product)) > 255:
        return errors.track_invalid("product_id")
    if obj.get("currency") is None:
        return errors.track_required("currency")
    if not isinstance(obj["currency"], str) or not CURRENCY.match(obj["currency"]):
        return errors.track_invalid("currency")
    price = obj.get("price")
    if price is None:
        return errors.track_required("price")
    if isinstance(price, bool) or not isinstance(price, (int, float)):
        return errors.track_invalid("price")
    quantity = obj.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        return errors.track_invalid("quantity")
    return _time_problem(obj)


CHECKS = {"attributes": attributes_problem, "events": event_problem, "purchases": purchase_problem}


def track_profile(ctx: Context, people: People, obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The profile an object updates, created when Braze would create it; None = skipped."""
    existing_only = obj.get("_update_existing_only")
    if obj.get("external_id") is not None:
        profile = people.by_external_id(str(obj["external_id"]))
        if profile is None and existing_only is not True:
            profile = people.create(external_id=str(obj["external_id"]))
        return profile
    if obj.get("user_alias") is not None:
        profile = people.by_alias(obj["user_alias"])
        if profile is None and existing_only is False:
            profile = people.create(alias=obj["user_alias"])
        return profile
    if obj.get("braze_id") is not None:
        return people.by_braze_id(str(obj["braze_id"]))
    email, phone = obj.get("email"), obj.get("phone")
    matches = people.by_email(email) if email is not None else people.by_phone(str(phone))
    profile = prioritized(matches, ("identified", "most_recently_updated"))
    if profile is None and existing_only is not True:
        profile = people.create(email=email, phone=None if email is not None else str(phone))
    return profile


def apply(ctx: Context, people: People, array: str, obj: Mapping[str, Any]) -> None:
    profile = track_profile(ctx, people, obj)
    if profile is None:
        return
    if array == "attributes":
        people.apply_attributes(profile, obj)
        return
    when = min(timeparse.utc_epoch(timeparse.parse(obj["time"])), ctx.now)  # type: ignore[arg-type]
    props = dict(obj.get("properties") or {})
    if array == "events":
        people.add_event(profile, obj["name"], when, props)
    else:
        people.add_event(profile, PURCHASE_EVENT, when, {
            **props, "product_id": str(obj["product_id"]), "currency": obj["currency"].upper(),
            "price": obj["price"], "quantity": obj.get("quantity", 1)})


async def users_track(call: Call) -> Reply:
    ctx = context.of(call)
    present = [(name, call.body[name]) for name in ARRAYS if call.body.get(name) is not None]
    if sum(len(items) for _, items in present) > errors.MAX_TRACK_OBJECTS:
        raise BrazeFail(errors.MAX_INPUT)
    problems: list[dict[str, Any]] = []
    valid: list[tuple[str, Mapping[str, Any]]] = []
    counters: dict[str, int] = {}
    for name, items in present:
        counters[f"{name}_processed"] = 0
        for index, obj in enumerate(items):
            problem = identifier_problem(obj, name) or CHECKS[name](obj)
            if problem is not None:
                problems.append({"type": problem, "input_array": name, "index": index})
                continue
            valid.append((name, obj))
            counters[f"{name}_processed"] += 1
    if not valid:
        raise BrazeFail(errors.TRACK_NOTHING_VALID, errors=problems or None)
    people = ctx.people
    for name, obj in valid:
        apply(ctx, people, name, obj)
    return errors.success(counters, after={"errors": problems} if problems else None)


# -- other user endpoints ------------------------------------------------------------------------
def _one_kind(body: Mapping[str, Any], kinds: tuple[str, ...], exactly: bool) -> list[str]:
    given = [k for k in kinds if body.get(k) not in (None, [])]
    if not given or (exactly and len(given) > 1):
        names = ", ".join(given if given else kinds)
        if exactly and given:
            raise BrazeFail(f"{names} are mutually exclusive")
        if exactly:
            raise BrazeFail(f"{names} are missing, exactly one parameter must be provided")
        raise BrazeFail(f"{names} are missing, at least one parameter must be provided")
    if sum(len(body[k]) if isinstance(body[k], list) else 1 for k in given) > errors.MAX_PER_REQUEST:
        raise BrazeFail(errors.MAX_IDS)
    return given


async def users_delete(call: Call) -> Reply:
    """Counts the ids given, not the users found [V-rec] (spec §1 "Recorded semantics")."""
    ctx = context.of(call)
    kind = _one_kind(call.body, DELETE_KINDS, exactly=True)[0]
    items = call.body[kind]
    people = ctx.people
    for item in items:
        for profile in _profiles_of(people, kind, item):
            people.delete(profile)
    return errors.success({"deleted": len(items)})


def _profiles_of(people: People, kind: str, item: Any) -> list[dict[str, Any]]:
    if kind == "external_ids":
        found = people.by_external_id(str(item))
    elif kind == "user_aliases":
        found = people.by_alias(item)
    elif kind == "braze_ids":
        found = people.by_braze_id(item)
    elif kind == "email_addresses":
        found = prioritized(people.by_email(item["email"]), tuple(item.get("prioritization") or ()))
    else:
        return people.by_phone(item)
    return [] if found is None else [found]


async def users_identify(call: Call) -> Reply:
    ctx = context.of(call)
    people = ctx.people
    counters: dict[str, int] = {}
    for kind in _one_kind(call.body, IDENTIFY_KINDS, exactly=False):
        counters[IDENTIFY_COUNTERS[kind]] = 0
        for item in call.body[kind]:
            external = str(item["external_id"])
            if kind == "aliases_to_identify":
                sources = [p for p in [people.by_alias(item["user_alias"])] if p is not None]
            elif kind == "emails_to_identify":
                sources = [p for p in people.by_email(item["email"]) if p.get("external_id") is None]
            else:
                sources = [p for p in people.by_phone(item["phone"]) if p.get("external_id") is None]
            target = people.by_external_id(external)
            for source in sources:
                if source.get("external_id") is not None:
                    continue
                target = (people.set_external_id(source, external) if target is None
                          else people.merge_into(target, source))
            counters[IDENTIFY_COUNTERS[kind]] += 1
    return errors.success(counters)


async def users_alias_new(call: Call) -> Reply:
    ctx = context.of(call)
    aliases = call.body["user_aliases"]
    if len(aliases) > errors.MAX_PER_REQUEST:
        raise BrazeFail(errors.MAX_IDS)
    people = ctx.people
    for alias in aliases:
        if alias.get("external_id") is None:
            if people.by_alias(alias) is None:
                people.create(alias=alias)
            continue
        profile = people.by_external_id(str(alias["external_id"]))
        if profile is not None:
            people.add_alias(profile, alias)
    return errors.success({"aliases_processed": len(aliases)})


async def users_export_ids(call: Call) -> Reply:
    ctx = context.of(call)
    body = call.body
    _one_kind(body, EXPORT_IDENTIFIERS, exactly=False)
    people = ctx.people
    found: list[dict[str, Any]] = []
    invalid: list[str] = []
    for external in body.get("external_ids") or []:
        profile = people.by_external_id(str(external))
        if profile is None:
            invalid.append(str(external))
        else:
            found.append(profile)
    found += [p for p in (people.by_alias(a) for a in body.get("user_aliases") or []) if p is not None]
    if body.get("braze_id") is not None:
        found += [p for p in [people.by_braze_id(body["braze_id"])] if p is not None]
    if body.get("email_address") is not None:
        found += people.by_email(body["email_address"])
    if body.get("phone") is not None:
        found += people.by_phone(body["phone"])
    wanted = body.get("fields_to_export") or EXPORT_FIELDS
    users, seen = [], set()
    for profile in found:
        if profile["identity"] not in seen:
            seen.add(profile["identity"])
            row = export(profile)
            users.append({k: row[k] for k in EXPORT_FIELDS if k in wanted and row.get(k) is not None})
    fields: dict[str, Any] = {"users": users}
    if invalid:
        fields["invalid_user_ids"] = invalid
    return errors.success(fields)
