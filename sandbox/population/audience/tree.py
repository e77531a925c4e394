"""The neutral audience condition tree: plain JSON-able dicts, validated by ``validate_tree``.

Every node is a dict identified by one key:

``{"everyone": true}``
    every profile.
``{"all": [node, ...]}`` / ``{"any": [node, ...]}`` / ``{"not": node}``
    and / or / negation (``all: []`` is everyone, ``any: []`` is nobody).
``{"attribute": NAME, "op": OP, "value": V, "ignore_case": false}``
    profile attribute comparison. NAME is a custom property (``profile["properties"][NAME]``) or a
    standard field (``email``, ``age``... or display aliases such as "Customer Type", "Email", "Age";
    see ``index.ATTRIBUTE_ALIASES``). OP is one of ``ATTRIBUTE_OPS``. ``value`` may be an array: the
    comparison holds if it holds for any element (OR); list-valued attributes also match if any
    element matches. ``"True"``/``"False"`` (any case) match booleans and boolean-like strings.
    ``not_equals``, ``does_not_contain`` and ``does_not_match_regex`` are exact negations of their
    positive op (profiles without the attribute match them); wrap them in ``all`` with ``exists`` when
    the vendor excludes missing values. String comparisons are case-sensitive unless ``ignore_case``
    is true. Date ops (``before``, ``after``, ``within_last_days``, ``more_than_days_ago``,
    ``within_next_days``, ``more_than_days_ahead``) read epoch-second numbers, ISO 8601 strings,
    ``YYYY-MM-DD`` and ``$D_<epoch>`` values; ``before``/``after`` take an ISO string or epoch
    seconds, the day ops a number of days counted from ``now``.
``{"event": NAME, "count": {"op": COUNT_OP, "value": N}, "from": EPOCH, "to": EPOCH, "last_days": D,
   "properties": [{"name": P, "op": OP, "value": V}, ...]}``
    users whose number of NAME occurrences in the window (``from``/``to`` inclusive epoch seconds, or the
    last D days before ``now``) whose properties all match, satisfies ``count`` (default ``>= 1``).
    "did not" is ``{"not": {"event": ...}}`` (or ``count`` ``equals 0``). Property ops are the
    attribute ops; list-valued properties (e.g. ``Items``) match if any element matches.
``{"reachable": CHANNEL, "platform": P | [P, ...]}``
    reachable on CHANNEL (``CHANNELS``): push needs push not unsubscribed and an android/ios device
    (``platform`` narrows it), webpush a web device and webpush not unsubscribed, email an address,
    not unsubscribed and not invalid, sms/whatsapp a phone, not unsubscribed, not invalid, not DND.
``{"subscription": CHANNEL, "state": S | [S, ...]}``
    subscription state on CHANNEL: ``opted_in``, ``subscribed``, ``unsubscribed`` (the stored state) or
    the flags ``invalid`` and ``dnd``; several states are OR'ed.
``{"member_of": ID}``
    segment/list membership, resolved by the caller's ``resolve_member(ID)`` which returns a subtree or a
    list of identities (matched against identity, external id, email, objectId, internal id, phone).

Examples (one per source filter language):

- Query language with ``where``/``advanced_query``: ``{"event_name": "Charged", "from": 20250101,
  "to": 20251231, "common_profile_properties": {"profile_fields": [{"name": "Customer Type",
  "operator": "equals", "value": ["Gold", "Platinum"]}]}, "advanced_query": {"did_not": [{"event_name":
  "App Launched", "from": 20251201, "to": 20251231}]}}`` becomes::

      {"all": [
        {"event": "Charged", "from": 1735689600, "to": 1767225599},
        {"attribute": "Customer Type", "op": "equals", "value": ["Gold", "Platinum"]},
        {"not": {"event": "App Launched", "from": 1764547200, "to": 1767225599}},
        {"reachable": "push", "platform": ["android", "ios"]}]}

- Connected-audience filters: ``{"AND": [{"custom_attribute": {"custom_attribute_name": "Plan",
  "comparison": "not_equal", "value": "free"}}, {"push_subscription_status": {"comparison": "is",
  "value": "opted_in"}}, {"last_used_app": {"comparison": "after", "value": "2025-12-01T00:00:00+0000"}}]}``
  becomes::

      {"all": [
        {"attribute": "Plan", "op": "not_equals", "value": "free"},
        {"subscription": "push", "state": "opted_in"},
        {"attribute": "last_active", "op": "after", "value": "2025-12-01T00:00:00+00:00"}]}

  ``less_than_x_days_ago`` maps to ``within_last_days``, ``greater_than_x_days_ago`` to
  ``more_than_days_ago``, ``less_than_x_days_in_the_future`` to ``within_next_days``,
  ``greater_than_x_days_in_the_future`` to ``more_than_days_ahead``, ``includes_value`` to ``equals``.

- List/segment audiences with suppressions: ``{"include_list": {"list_ids": ["12"]},
  "segment_ids": ["7"], "suppression_list_ids": ["3"]}`` becomes::

      {"all": [
        {"any": [{"member_of": "list:12"}, {"member_of": "segment:7"}]},
        {"not": {"member_of": "list:3"}},
        {"reachable": "email"}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

CHANNELS: frozenset[str] = frozenset({"push", "webpush", "email", "sms", "whatsapp"})
PLATFORMS: frozenset[str] = frozenset({"android", "ios", "web"})
STATES: frozenset[str] = frozenset({"opted_in", "subscribed", "unsubscribed", "invalid", "dnd"})

EQUALITY_OPS = frozenset({"equals", "not_equals"})
STRING_OPS = frozenset({"contains", "does_not_contain", "starts_with", "ends_with"})
REGEX_OPS = frozenset({"matches_regex", "does_not_match_regex"})
PRESENCE_OPS = frozenset({"exists", "does_not_exist"})
NUMERIC_OPS = frozenset({"greater_than", "greater_than_equals", "less_than", "less_than_equals"})
DATE_OPS = frozenset({"before", "after"})
DAYS_OPS = frozenset({"within_last_days", "more_than_days_ago", "within_next_days", "more_than_days_ahead"})
ATTRIBUTE_OPS = EQUALITY_OPS | STRING_OPS | REGEX_OPS | PRESENCE_OPS | NUMERIC_OPS | DATE_OPS | DAYS_OPS
COUNT_OPS = EQUALITY_OPS | NUMERIC_OPS
NEGATED_OPS: dict[str, str] = {"not_equals": "equals", "does_not_contain": "contains",
                               "does_not_match_regex": "matches_regex", "does_not_exist": "exists"}

NODE_KEYS: dict[str, frozenset[str]] = {
    "everyone": frozenset({"everyone"}),
    "all": frozenset({"all"}),
    "any": frozenset({"any"}),
    "not": frozenset({"not"}),
    "attribute": frozenset({"attribute", "op", "value", "ignore_case"}),
    "event": frozenset({"event", "count", "from", "to", "last_days", "properties"}),
    "reachable": frozenset({"reachable", "platform"}),
    "subscription": frozenset({"subscription", "state"}),
    "member_of": frozenset({"member_of"}),
}
MAX_DEPTH = 64


def node_kind(node: Mapping[str, Any]) -> str:
    """The kind of an already validated node."""
    for kind in NODE_KEYS:
        if kind in node:
            return kind
    raise ValueError(f"not an audience node: {dict(node)!r}")


def validate_tree(tree: Any, path: str = "$") -> None:
    """Raise ``ValueError("<json path>: <reason>")`` for the first problem found in ``tree``."""
    _validate(tree, path, 0)


def _fail(path: str, reason: str) -> None:
    raise ValueError(f"{path}: {reason}")


def _validate(node: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        _fail(path, f"tree nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, Mapping):
        _fail(path, f"a node must be an object, got {type(node).__name__}")
    kinds = [k for k in NODE_KEYS if k in node]
    if len(kinds) != 1:
        found = "none" if not kinds else ", ".join(kinds)
        _fail(path, f"a node needs exactly one of {', '.join(NODE_KEYS)} (found {found})")
    kind = kinds[0]
    extra = sorted(set(node) - NODE_KEYS[kind])
    if extra:
        _fail(path, f"unknown key(s) {', '.join(extra)} in a {kind} node")
    if kind == "everyone":
        if node["everyone"] is not True:
            _fail(f"{path}.everyone", "must be true")
    elif kind in ("all", "any"):
        children = node[kind]
        if not isinstance(children, list):
            _fail(f"{path}.{kind}", "must be an array of nodes")
        for i, child in enumerate(children):
            _validate(child, f"{path}.{kind}[{i}]", depth + 1)
    elif kind == "not":
        _validate(node["not"], f"{path}.not", depth + 1)
    elif kind == "attribute":
        if not isinstance(node["attribute"], str) or not node["attribute"]:
            _fail(f"{path}.attribute", "must be a non-empty string")
        _validate_comparison(node, path)
    elif kind == "event":
        _validate_event(node, path)
    elif kind == "reachable":
        _check_choice(node["reachable"], CHANNELS, f"{path}.reachable", "channel")
        if "platform" in node:
            _check_choices(node["platform"], PLATFORMS, f"{path}.platform", "platform")
    elif kind == "subscription":
        _check_choice(node["subscription"], CHANNELS, f"{path}.subscription", "channel")
        if "state" not in node:
            _fail(path, "a subscription node needs a state")
        _check_choices(node["state"], STATES, f"{path}.state", "state")
    elif kind == "member_of":
        member = node["member_of"]
        if isinstance(member, bool) or not isinstance(member, str | int) or member == "":
            _fail(f"{path}.member_of", "must be a non-empty string or integer id")


def _check_choice(value: Any, allowed: frozenset[str], path: str, what: str) -> None:
    if not isinstance(value, str) or value not in allowed:
        _fail(path, f"unknown {what} {value!r} (expected one of {', '.join(sorted(allowed))})")


def _check_choices(value: Any, allowed: frozenset[str], path: str, what: str) -> None:
    values = value if isinstance(value, list) else [value]
    if not values:
        _fail(path, f"needs at least one {what}")
    for i, item in enumerate(values):
        _check_choice(item, allowed, f"{path}[{i}]" if isinstance(value, list) else path, what)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _validate_comparison(node: Mapping[str, Any], path: str) -> None:
    op = node.get("op")
    if not isinstance(op, str) or op not in ATTRIBUTE_OPS:
        _fail(f"{path}.op", f"unknown operator {op!r} (expected one of {', '.join(sorted(ATTRIBUTE_OPS))})")
    if "ignore_case" in node and not isinstance(node["ignore_case"], bool):
        _fail(f"{path}.ignore_case", "must be a boolean")
    if op in PRESENCE_OPS:
        return
    if "value" not in node:
        _fail(path, f"operator {op} needs a value")
    value = node["value"]
    values = value if isinstance(value, list) else [value]
    if not values:
        _fail(f"{path}.value", "an empty array matches nothing; give at least one value")
    for i, item in enumerate(values):
        where = f"{path}.value[{i}]" if isinstance(value, list) else f"{path}.value"
        if item is None or isinstance(item, dict | list):
            _fail(where, "values must be strings, numbers or booleans")
        if op in NUMERIC_OPS and not _is_number(item):
            _fail(where, f"operator {op} needs a number, got {item!r}")
        if (op in STRING_OPS or op in REGEX_OPS) and not isinstance(item, str):
            _fail(where, f"operator {op} needs a string, got {item!r}")
        if op in REGEX_OPS:
            try:
                re.compile(item)
            except re.error as exc:
                _fail(where, f"invalid regular expression: {exc}")
        if op in DAYS_OPS and (not _is_number(item) or float(item) < 0):
            _fail(where, f"operator {op} needs a non-negative number of days, got {item!r}")
        if op in DATE_OPS and parse_date(item) is None:
            _fail(where, f"operator {op} needs an ISO 8601 date or epoch seconds, got {item!r}")


def _validate_event(node: Mapping[str, Any], path: str) -> None:
    if not isinstance(node["event"], str) or not node["event"]:
        _fail(f"{path}.event", "must be a non-empty event name")
    for key in ("from", "to"):
        if key in node and (isinstance(node[key], bool) or not isinstance(node[key], int | float)):
            _fail(f"{path}.{key}", "must be epoch seconds (a number)")
    if "from" in node and "to" in node and node["from"] > node["to"]:
        _fail(path, "from is after to")
    if "last_days" in node and (not _is_number(node["last_days"]) or isinstance(node["last_days"], str)
                                or node["last_days"] < 0):
        _fail(f"{path}.last_days", "must be a non-negative number")
    if "count" in node:
        count = node["count"]
        if not isinstance(count, Mapping) or set(count) != {"op", "value"}:
            _fail(f"{path}.count", 'must be {"op": ..., "value": <integer>}')
        if count["op"] not in COUNT_OPS:
            _fail(f"{path}.count.op",
                  f"unknown operator {count['op']!r} (expected one of {', '.join(sorted(COUNT_OPS))})")
        if isinstance(count["value"], bool) or not isinstance(count["value"], int | float):
            _fail(f"{path}.count.value", "must be a number")
    if "properties" in node:
        props = node["properties"]
        if not isinstance(props, list):
            _fail(f"{path}.properties", "must be an array")
        for i, prop in enumerate(props):
            where = f"{path}.properties[{i}]"
            if not isinstance(prop, Mapping):
                _fail(where, "must be an object")
            extra = sorted(set(prop) - {"name", "op", "value", "ignore_case"})
            if extra:
                _fail(where, f"unknown key(s) {', '.join(extra)}")
            if not isinstance(prop.get("name"), str) or not prop["name"]:
                _fail(f"{where}.name", "must be a non-empty string")
            _validate_comparison(prop, where)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def parse_date(value: Any) -> float | None:
    """Epoch seconds for numbers, ISO 8601 strings (``Z``, ``+0000`` offsets, date-only) and ``$D_<epoch>``.
    ``None`` for anything else (booleans included)."""
    from datetime import UTC, datetime

    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    if value.startswith("$D_"):
        try:
            return float(value[3:])
        except ValueError:
            return None
    if not _ISO_DATE.match(value):
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
