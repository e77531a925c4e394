"""Connected audience (spec §11.2) -> the neutral condition tree of ``sandbox.population.audience.tree``.

A malformed audience raises ``BrazeFail`` naming the Grape-style parameter at fault [INF: Braze's texts for
bad audiences are not documented].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.providers.braze import errors, timeparse
from sandbox.providers.braze.errors import BrazeFail

Path = tuple[str | int, ...]

STRING_OPS = {"equals": "equals", "not_equal": "not_equals", "matches_regex": "matches_regex",
              "does_not_match_regex": "does_not_match_regex"}
ARRAY_OPS = {"includes_value": "equals", "does_not_include_value": "not_equals"}
NUMERIC_OPS = {"greater_than": "greater_than", "greater_than_or_equal_to": "greater_than_equals",
               "less_than": "less_than", "less_than_or_equal_to": "less_than_equals"}
BOOLEAN_OPS = {"does_not_equal": "not_equals"}
DAYS_OPS = {"less_than_x_days_ago": "within_last_days", "greater_than_x_days_ago": "more_than_days_ago",
            "less_than_x_days_in_the_future": "within_next_days",
            "greater_than_x_days_in_the_future": "more_than_days_ahead"}
DATE_OPS = {"after": "after", "before": "before"}
PRESENCE_OPS = {"exists": "exists", "does_not_exist": "does_not_exist"}
COMPARISONS: dict[str, str] = {**STRING_OPS, **ARRAY_OPS, **NUMERIC_OPS, **BOOLEAN_OPS, **DAYS_OPS, **DATE_OPS,
                               **PRESENCE_OPS}
"""Every comparison of spec §11.2 -> the neutral op."""
SUBSCRIPTION_FILTERS = {"push_subscription_status": "push", "email_subscription_status": "email"}
SUBSCRIPTION_STATES = frozenset({"opted_in", "subscribed", "unsubscribed"})
LAST_USED_APP_ATTRIBUTE = "last_active"
"""The neutral profile field read for ``last_used_app`` (see sandbox/population/audience/tree.py)."""
MAX_DEPTH = 32


def to_tree(audience: Any, path: Path = ("audience",), depth: int = 0) -> dict[str, Any]:
    if not isinstance(audience, Mapping) or len(audience) != 1 or depth > MAX_DEPTH:
        raise BrazeFail(errors.invalid(path))
    (key, value), = audience.items()
    where = (*path, key)
    if key in ("AND", "OR"):
        if not isinstance(value, list) or not value:
            raise BrazeFail(errors.invalid(where))
        return {"all" if key == "AND" else "any": [to_tree(v, (*where, i), depth + 1) for i, v in enumerate(value)]}
    if not isinstance(value, Mapping):
        raise BrazeFail(errors.invalid(where))
    if key == "custom_attribute":
        return _custom_attribute(value, where)
    if key in SUBSCRIPTION_FILTERS:
        return _subscription(SUBSCRIPTION_FILTERS[key], value, where)
    if key == "last_used_app":
        return _last_used_app(value, where)
    raise BrazeFail(errors.invalid(where))


def _custom_attribute(value: Mapping[str, Any], where: Path) -> dict[str, Any]:
    name = value.get("custom_attribute_name")
    if not isinstance(name, str) or not name:
        raise BrazeFail(errors.missing((*where, "custom_attribute_name")))
    comparison = value.get("comparison")
    op = COMPARISONS.get(comparison) if isinstance(comparison, str) else None
    if op is None:
        raise BrazeFail(errors.bad_value((*where, "comparison")))
    node: dict[str, Any] = {"attribute": name, "op": op}
    if comparison in PRESENCE_OPS:
        return node
    if "value" not in value or value["value"] is None or isinstance(value["value"], (dict, list)):
        raise BrazeFail(errors.missing((*where, "value")) if value.get("value") is None
                        else errors.invalid((*where, "value")))
    operand = value["value"]
    if comparison in ("matches_regex", "does_not_match_regex") and not isinstance(operand, str):
        raise BrazeFail(errors.invalid((*where, "value")))
    numeric = comparison in NUMERIC_OPS or comparison in DAYS_OPS
    if numeric and (isinstance(operand, bool) or not isinstance(operand, (int, float))):
        raise BrazeFail(errors.invalid((*where, "value")))
    if comparison in DATE_OPS:
        operand = _iso(operand, (*where, "value"))
    node["value"] = operand
    return node


def _subscription(channel: str, value: Mapping[str, Any], where: Path) -> dict[str, Any]:
    comparison = value.get("comparison")
    state = value.get("value")
    if comparison not in ("is", "is_not"):
        raise BrazeFail(errors.bad_value((*where, "comparison")))
    if not isinstance(state, str) or state not in SUBSCRIPTION_STATES:
        raise BrazeFail(errors.bad_value((*where, "value")))
    node = {"subscription": channel, "state": state}
    return node if comparison == "is" else {"not": node}


def _last_used_app(value: Mapping[str, Any], where: Path) -> dict[str, Any]:
    comparison = value.get("comparison")
    if not isinstance(comparison, str) or comparison not in DATE_OPS:
        raise BrazeFail(errors.bad_value((*where, "comparison")))
    return {"attribute": LAST_USED_APP_ATTRIBUTE, "op": comparison,
            "value": _iso(value.get("value"), (*where, "value"))}


def _iso(value: Any, where: Path) -> str:
    parsed = timeparse.parse(value)
    if parsed is None:
        raise BrazeFail(errors.invalid(where))
    return parsed.isoformat()
