"""One profile at a time: whether it matches an audience tree and what it adds to an estimate.

The numpy evaluator (``sandbox.population.audience.evaluate``) pays numpy's per-call cost and an ``Index``'s
construction whatever the number of profiles: over the one or two profiles a tenant wrote since its last
query that is most of an estimate's cost. This module answers the same questions (and why a profile cannot
be reached) for a single profile dict in plain Python, with exactly the evaluator's rules
(``tests/unit/test_overlay_levels.py`` checks the two against each other on generated trees and profiles,
every node kind and operator). The overlay uses it for its newest, not yet indexed writes
(``Overlay.fresh_profiles``); everything else uses the evaluator.

A profile this module cannot answer for exactly (an event stamp that is not a number, a ``member_of`` node,
a malformed structure) raises ``Unsupported``: the caller then uses the evaluator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sandbox.population.audience.evaluate import (
    _BOOL_STRINGS,
    _DAY,
    COMPARE,
    DND,
    NO_CHANNEL,
    NOT_FOUND,
    UNSUBSCRIBED,
    _as_list,
    _platforms,
)
from sandbox.population.audience.index import (
    ATTRIBUTE_ALIASES,
    DEFAULT_STATE,
    PLATFORM_CODES,
    PUSH_PLATFORMS,
    STATE_CODES,
    STRUCTURED_FIELDS,
    _boolean,
    _date_or_nan,
    _number,
)
from sandbox.population.audience.tree import DAYS_OPS, NEGATED_OPS, node_kind, parse_date

_UNSUBSCRIBED = STATE_CODES["unsubscribed"]
_EMPTY: dict[str, Any] = {}


class Unsupported(Exception):
    """This profile or tree needs the numpy evaluator."""


def matches(tree: Mapping[str, Any], profile: Mapping[str, Any] | None, now: float | None) -> bool:
    """Whether ``profile`` (None: deleted, matches nothing) matches the validated ``tree``."""
    if profile is None:
        return False
    try:
        return _eval(tree, profile, now)
    except Unsupported:
        raise
    except (TypeError, AttributeError, KeyError, OverflowError) as exc:  # malformed: the evaluator decides
        raise Unsupported(str(exc)) from exc


def contribution(profile: Mapping[str, Any], *, channel: str | None, platforms: Iterable[str] | None = None,
                 count_devices: bool = False) -> dict[str, int]:
    """What one matching, current profile adds to ``count_rows``'s counts (the same keys, zeros included)."""
    if channel is None:
        return {"users": 1}
    wanted = list(platforms) if platforms is not None else None
    try:
        reached = reachable(profile, channel, wanted)
        if channel not in ("push", "webpush"):
            return {channel: int(reached)}
        out = dict.fromkeys(_platforms(channel, wanted), 0)
        if not reached:
            return out
        picked = [(platform, last) for platform, last in _devices(profile) if platform in out]
        if count_devices:
            for platform, _ in picked:
                out[platform] += 1
        elif picked:  # the most recently active device; on a tie the one listed last
            best = picked[0]
            for entry in picked[1:]:
                if entry[1] >= best[1]:
                    best = entry
            out[best[0]] += 1
        return out
    except (TypeError, AttributeError, KeyError) as exc:
        raise Unsupported(str(exc)) from exc


def unreached_reason(profile: Mapping[str, Any] | None, channel: str,
                     platforms: Iterable[str] | None = None) -> str | None:
    """``evaluate.unreached_reason`` for one profile (None: deleted)."""
    if profile is None:
        return NOT_FOUND
    wanted = list(platforms) if platforms is not None else None
    try:
        if reachable(profile, channel, wanted):
            return None
        entry = _entry(profile, channel)
        if _state(entry) == _UNSUBSCRIBED:
            return UNSUBSCRIBED
        if channel in ("sms", "whatsapp") and entry.get("dnd") and not entry.get("invalid") \
                and _has_contact(profile, "phone"):
            return DND
        return NO_CHANNEL
    except (TypeError, AttributeError, KeyError) as exc:
        raise Unsupported(str(exc)) from exc


# -- reachability ---------------------------------------------------------------------------------------
def _entry(profile: Mapping[str, Any], channel: str) -> Mapping[str, Any]:
    channels = profile.get("reachability", _EMPTY) or _EMPTY
    return channels.get(channel) or _EMPTY


def _state(entry: Mapping[str, Any]) -> int:
    return STATE_CODES.get(entry.get("state", DEFAULT_STATE), STATE_CODES[DEFAULT_STATE])


def _devices(profile: Mapping[str, Any]) -> list[tuple[str | None, float]]:
    """(platform name or None when unknown, last active with NaN as -inf) of each device, in listing order."""
    out = []
    for device in profile.get("devices") or ():
        platform = device.get("platform")
        last = _number(device.get("last_active"))
        out.append((platform if platform in PLATFORM_CODES else None, -math.inf if math.isnan(last) else last))
    return out


def _has_device(profile: Mapping[str, Any], platforms: Sequence[str]) -> bool:
    return any(platform in platforms for platform, _ in _devices(profile))


def _has_contact(profile: Mapping[str, Any], field: str) -> bool:
    value = profile.get(field)
    return bool(value) and isinstance(value, str)


def reachable(profile: Mapping[str, Any], channel: str, platforms: Iterable[str] | None) -> bool:
    """``Index.reachable`` for one (current) profile."""
    entry = _entry(profile, channel)
    if _state(entry) == _UNSUBSCRIBED:
        return False
    if channel == "push":
        return _has_device(profile, [p for p in (platforms or PUSH_PLATFORMS) if p in PUSH_PLATFORMS])
    if channel == "webpush":
        return _has_device(profile, [p for p in (platforms or ("web",)) if p == "web"])
    if channel == "email":
        return not entry.get("invalid") and _has_contact(profile, "email")
    if channel in ("sms", "whatsapp"):
        return not entry.get("invalid") and not entry.get("dnd") and _has_contact(profile, "phone")
    raise ValueError(f"unknown channel {channel!r}")


# -- the tree ---------------------------------------------------------------------------------------------
def _eval(node: Mapping[str, Any], profile: Mapping[str, Any], now: float | None) -> bool:
    kind = node_kind(node)
    if kind == "everyone":
        return True
    if kind == "all":
        return all(_eval(child, profile, now) for child in node["all"])
    if kind == "any":
        return any(_eval(child, profile, now) for child in node["any"])
    if kind == "not":
        return not _eval(node["not"], profile, now)
    if kind == "attribute":
        return compare(_values(_attribute(profile, node["attribute"])), node, now)
    if kind == "event":
        return _event(node, profile, now)
    if kind == "reachable":
        return reachable(profile, node["reachable"], _as_list(node.get("platform")) or None)
    if kind == "subscription":
        entry = _entry(profile, node["subscription"])
        for state in _as_list(node["state"]):
            if state == "invalid":
                hit = bool(entry.get("invalid"))
            elif state == "dnd":
                hit = bool(entry.get("dnd"))
            else:
                hit = _state(entry) == STATE_CODES[state]
            if hit:
                return True
        return False
    raise Unsupported("member_of")


_MISSING = object()


def _attribute(profile: Mapping[str, Any], name: str) -> Any:
    """``index.attribute_values`` for one profile."""
    props = profile.get("properties")
    if props and name in props:
        return props[name]
    top = name if name not in STRUCTURED_FIELDS else "\0"
    if top in profile:
        return profile[top]
    return profile.get(ATTRIBUTE_ALIASES.get(name.lower(), "\0"), _MISSING)


def _values(value: Any) -> list[Any]:
    """The values ``index.build_column`` records for one entity (none: absent)."""
    if value is None or value is _MISSING or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [item for item in value if item is not None and not isinstance(item, dict | list)]
    return [value]


def compare(values: list[Any], cond: Mapping[str, Any], now: float | None) -> bool:
    """``evaluate.compare`` for one entity's values."""
    op = cond["op"]
    if op in NEGATED_OPS:
        return not compare(values, {**cond, "op": NEGATED_OPS[op]}, now)
    if op == "exists":
        return bool(values)
    ignore_case = bool(cond.get("ignore_case"))
    return any(_hit(value, op, wanted, ignore_case, now) for wanted in _as_list(cond.get("value"))
               for value in values)


def _hit(value: Any, op: str, wanted: Any, ignore_case: bool, now: float | None) -> bool:
    if op == "equals":
        return _equals(value, wanted, ignore_case)
    if op in ("contains", "starts_with", "ends_with"):
        if not isinstance(value, str):
            return False
        text, needle = (value.lower(), wanted.lower()) if ignore_case else (value, wanted)
        if op == "contains":
            return needle in text
        return text.startswith(needle) if op == "starts_with" else text.endswith(needle)
    if op == "matches_regex":
        return isinstance(value, str) and _regex(wanted, ignore_case).search(value) is not None
    if op in ("greater_than", "greater_than_equals", "less_than", "less_than_equals"):
        return bool(COMPARE[op](_number(value), float(wanted)))
    date = _date_or_nan(value)
    if op == "before":
        return date < float(parse_date(wanted))  # type: ignore[arg-type]
    if op == "after":
        return date > float(parse_date(wanted))  # type: ignore[arg-type]
    if op in DAYS_OPS:
        if now is None:
            raise ValueError("this tree uses relative dates: pass now= or build the index with reference_ts")
        span = float(wanted) * _DAY
        if op == "within_last_days":
            return now - span <= date <= now
        if op == "more_than_days_ago":
            return date < now - span
        if op == "within_next_days":
            return now <= date <= now + span
        return date > now + span
    raise ValueError(f"operator {op!r} is not supported")


@lru_cache(maxsize=256)
def _regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


def _equals(value: Any, wanted: Any, ignore_case: bool) -> bool:
    if isinstance(wanted, bool):
        return _boolean(value) == int(wanted)
    if isinstance(wanted, int | float):
        return _number(value) == float(wanted)
    if isinstance(value, str) and ((value.lower() == wanted.lower()) if ignore_case else (value == wanted)):
        return True
    as_bool = _BOOL_STRINGS.get(wanted.lower())
    if as_bool is not None and _boolean(value) == int(as_bool):
        return True
    number = _text_number(wanted)
    return number is not None and _number(value) == number


@lru_cache(maxsize=1024)
def _text_number(text: str) -> float | None:
    """``float(text)``, None when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return None


def _event(node: Mapping[str, Any], profile: Mapping[str, Any], now: float | None) -> bool:
    name = node["event"]
    windowed = "from" in node or "to" in node or "last_days" in node  # then a NaN stamp is outside it
    low = float(node["from"]) if "from" in node else -math.inf
    high = float(node["to"]) if "to" in node else math.inf
    if "last_days" in node:
        if now is None:
            raise ValueError("this tree uses relative dates: pass now= or build the index with reference_ts")
        low, high = max(low, now - float(node["last_days"]) * _DAY), min(high, now)
    props = node.get("properties") or ()
    count = 0
    for event in profile.get("events") or ():
        if str(event["name"]) != name:
            continue
        stamp = event["ts"]
        if isinstance(stamp, bool) or not isinstance(stamp, int | float):
            raise Unsupported("an event stamp that is not a number")  # the evaluator reads the level's stamps
        ts = float(stamp)  # as the evaluator's float64 table (OverflowError: a malformed profile)
        if windowed and not low <= ts <= high:
            continue
        given = event.get("props")
        if all(compare(_values(given.get(prop["name"]) if isinstance(given, dict) else None), prop, now)
               for prop in props):
            count += 1
    rule = node.get("count") or {"op": "greater_than_equals", "value": 1}
    return bool(COMPARE[rule["op"]](count, float(rule["value"])))
