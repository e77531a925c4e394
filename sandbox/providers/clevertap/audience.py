"""CleverTap Query Language (``where``, spec §7) -> the neutral condition tree of ``sandbox.population.audience.tree``.

Rules (each one has a row in ``tests/providers/clevertap/test_audience.py``):

- ``{}`` is the whole base: ``{"everyone": true}``.
- ``event_name`` + ``from``/``to`` (int ``YYYYMMDD``, both inclusive, UTC days) -> an event node, at least
  one occurrence in the window; ``event_properties`` narrow the occurrences (ANDed).
- ``from``/``to`` without ``event_name`` are accepted and ignored (the real API accepts them on an email
  campaign [V-QA]), but ``from`` after ``to`` fails with CleverTap's own message.
- ``common_profile_properties.profile_fields`` -> attribute comparisons, ANDed; names may contain dots.
- ``advanced_query``: ``did_all`` -> all, ``did_any`` -> any, ``did_not`` -> all of not; each item is an
  event with optional ``from``/``to``, ``event_properties`` and a count ``operator``/``value``
  (default: at least once).
- Operators: ``equals``, ``not_equals``, ``contains``, ``does_not_contain``, ``exists``,
  ``does_not_exist``, ``greater_than``, ``greater_than_equals``, ``less_than``, ``less_than_equals``.
  Array values are OR'ed; ``"True"``/``"False"`` match booleans. ``not_equals`` and ``does_not_contain``
  only match users that have the property [INF].
- Anything else inside a known key (unknown operator, a non-primitive value, a bad date) is a parse
  failure; unknown keys (``session_properties``, other ``common_profile_properties`` groups) are ignored.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sandbox.providers.clevertap import errors

OPERATORS = frozenset({"equals", "not_equals", "contains", "does_not_contain", "exists", "does_not_exist",
                       "greater_than", "greater_than_equals", "less_than", "less_than_equals"})
NUMERIC = frozenset({"greater_than", "greater_than_equals", "less_than", "less_than_equals"})
STRINGS = frozenset({"contains", "does_not_contain"})
PRESENCE = frozenset({"exists", "does_not_exist"})
EXCLUDE_MISSING = frozenset({"not_equals", "does_not_contain"})
COUNT_OPERATORS = frozenset({"equals", "not_equals"}) | NUMERIC
EVERYONE: dict[str, Any] = {"everyone": True}
_DAY = 86400


class CqlError(ValueError):
    """A ``where`` the real API would refuse: ``wire`` is its error text, ``detail`` says why here."""

    def __init__(self, detail: str, wire: str = errors.WHERE_PARSE_FAILED) -> None:
        super().__init__(detail)
        self.detail = detail
        self.wire = wire


def translate(where: Any) -> dict[str, Any]:
    """The neutral tree for a CQL ``where`` object (raises CqlError)."""
    if not isinstance(where, Mapping):
        raise CqlError("where must be an object")
    parts: list[dict[str, Any]] = []
    window = _window(where, "where")
    if "event_name" in where:
        parts.append(_event(where, "where", window))
    elif "event_properties" in where:
        raise CqlError("where.event_properties needs where.event_name")
    common = where.get("common_profile_properties")
    if common is not None:
        if not isinstance(common, Mapping):
            raise CqlError("where.common_profile_properties must be an object")
        fields = common.get("profile_fields", [])
        if not isinstance(fields, list):
            raise CqlError("where.common_profile_properties.profile_fields must be an array")
        for i, cond in enumerate(fields):
            parts.extend(_attribute(cond, f"where.common_profile_properties.profile_fields[{i}]"))
    advanced = where.get("advanced_query")
    if advanced is not None:
        parts.extend(_advanced(advanced))
    if not parts:
        return dict(EVERYONE)
    return parts[0] if len(parts) == 1 else {"all": parts}


def _advanced(advanced: Any) -> list[dict[str, Any]]:
    if not isinstance(advanced, Mapping):
        raise CqlError("where.advanced_query must be an object")
    out: list[dict[str, Any]] = []
    for key in ("did_all", "did_any", "did_not"):
        if key not in advanced:
            continue
        items = advanced[key]
        if not isinstance(items, list) or not items:
            raise CqlError(f"where.advanced_query.{key} must be a non-empty array")
        nodes = [_event(item, f"where.advanced_query.{key}[{i}]", None) for i, item in enumerate(items)]
        if key == "did_all":
            out.append({"all": nodes})
        elif key == "did_any":
            out.append({"any": nodes})
        else:
            out.append({"all": [{"not": node} for node in nodes]})
    return out


def _event(spec: Any, path: str, window: tuple[int, int] | None) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise CqlError(f"{path} must be an object")
    name = spec.get("event_name")
    if not isinstance(name, str) or not name:
        raise CqlError(f"{path}.event_name must be a non-empty string")
    node: dict[str, Any] = {"event": name}
    if window is None:
        window = _window(spec, path)
    if window is not None:
        node["from"], node["to"] = window
    props = spec.get("event_properties")
    if props is not None:
        if not isinstance(props, list):
            raise CqlError(f"{path}.event_properties must be an array")
        node["properties"] = [_comparison(p, f"{path}.event_properties[{i}]") for i, p in enumerate(props)]
    if "operator" in spec or "value" in spec:
        op = spec.get("operator", "greater_than_equals")
        value = spec.get("value", 1)
        if not isinstance(op, str) or op not in COUNT_OPERATORS:
            raise CqlError(f"{path}.operator {op!r} is not an occurrence count operator")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CqlError(f"{path}.value must be a number of occurrences")
        node["count"] = {"op": op, "value": value}
    return node


def _window(spec: Mapping[str, Any], path: str) -> tuple[int, int] | None:
    start = _day(spec, "from", path)
    end = _day(spec, "to", path)
    if start is not None and end is not None and start > end:
        raise CqlError(f"{path}.from is after {path}.to", errors.WHERE_FROM_AFTER_TO)
    if start is None and end is None:
        return None
    return (start if start is not None else 0), (end + _DAY - 1 if end is not None else 2**40)


def _day(spec: Mapping[str, Any], key: str, path: str) -> int | None:
    """Epoch seconds of the start of a ``YYYYMMDD`` day (UTC)."""
    if key not in spec:
        return None
    value = spec[key]
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    day = _day_start(text) if isinstance(text, str) else None
    if day is None:
        raise CqlError(f"{path}.{key} must be a date YYYYMMDD, got {value!r}") from None
    return day


@functools.lru_cache(maxsize=4096)
def _day_start(text: str) -> int | None:
    """Epoch seconds of the UTC start of ``YYYYMMDD`` (None when it is not one); kept: campaigns repeat them."""
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        return None
    try:
        return int(datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


def _comparison(cond: Any, path: str) -> dict[str, Any]:
    if not isinstance(cond, Mapping):
        raise CqlError(f"{path} must be an object")
    name = cond.get("name")
    if not isinstance(name, str) or not name:
        raise CqlError(f"{path}.name must be a non-empty string")
    op = cond.get("operator", "equals")
    if not isinstance(op, str) or op not in OPERATORS:
        raise CqlError(f"{path}.operator {op!r} is not one of {', '.join(sorted(OPERATORS))}")
    out: dict[str, Any] = {"name": name, "op": op}
    if op in PRESENCE:
        return out
    if "value" not in cond:
        raise CqlError(f"{path}.value is missing")
    value = cond["value"]
    values = value if isinstance(value, list) else [value]
    if not values:
        raise CqlError(f"{path}.value must not be an empty array")
    for item in values:
        if item is None or isinstance(item, dict | list | bool):
            raise CqlError(f"{path}.value must be strings or numbers (booleans as \"True\"/\"False\")")
        if op in NUMERIC and not _numeric(item):
            raise CqlError(f"{path}.value {item!r} is not a number ({op})")
        if op in STRINGS and not isinstance(item, str):
            raise CqlError(f"{path}.value {item!r} is not a string ({op})")
    out["value"] = value
    return out


def _numeric(value: Any) -> bool:
    if isinstance(value, int | float):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _attribute(cond: Any, path: str) -> list[dict[str, Any]]:
    comparison = _comparison(cond, path)
    node = {"attribute": comparison.pop("name"), **comparison}
    if node["op"] in EXCLUDE_MISSING:
        return [{"attribute": node["attribute"], "op": "exists"}, node]
    return [node]


def segment_tree(segment: Any) -> dict[str, Any]:
    """``segment`` (an integer id, or the string "all" the official libraries send) -> a tree."""
    if segment == "all":
        return dict(EVERYONE)
    return {"member_of": str(segment)}
