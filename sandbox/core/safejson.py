"""JSON that cannot hurt the server: a nesting cap when parsing, and encoding that never raises.

orjson parses up to 1,024 levels but encodes at most 254, and Python code walking a body (schema validation,
deepcopy) recurses once or more per level; integers beyond 64 bits cannot be encoded at all. Bodies are
therefore refused past ``MAX_DEPTH`` levels, and anything stored is encoded with ``dumps`` (which degrades
instead of raising).
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 64
"""Deepest nesting of objects/arrays a request body may have (the top-level value is level 1)."""

TOO_DEEP = "<nested deeper than the sandbox keeps>"
"""What ``dumps`` writes in place of a value nested deeper than it can encode."""

_ENCODABLE_DEPTH = 200
_INT_RANGE = (-(2**63), 2**64 - 1)


class TooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels")
        self.limit = limit


def loads(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """orjson.loads plus the nesting cap: raises orjson.JSONDecodeError or TooDeep."""
    value = orjson.loads(raw)
    if _may_exceed(raw, max_depth) and depth_exceeds(value, max_depth):
        raise TooDeep(max_depth)
    return value


def loads_or_none(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed value, or None when ``raw`` is empty, not JSON or nested too deep (journal views)."""
    if not raw:
        return None
    try:
        return loads(raw, max_depth)
    except (orjson.JSONDecodeError, TooDeep):
        return None


def _may_exceed(raw: bytes | str, max_depth: int) -> bool:
    """A cheap pre-check in C: fewer opening brackets than the cap cannot nest past it."""
    if isinstance(raw, str):
        return raw.count("[") + raw.count("{") > max_depth
    return raw.count(b"[") + raw.count(b"{") > max_depth


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether ``value`` nests containers more than ``max_depth`` levels (iterative: no recursion limit)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def dumps(value: Any) -> bytes:
    """orjson.dumps that never raises: values it cannot encode (too deep, integers past 64 bits, other types)
    are replaced by a readable stand-in."""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return orjson.dumps(_encodable(value, 1))


def _encodable(value: Any, depth: int) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return value if _INT_RANGE[0] <= value <= _INT_RANGE[1] else str(value)
    if isinstance(value, (dict, list, tuple)) and depth >= _ENCODABLE_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {str(k): _encodable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encodable(v, depth + 1) for v in value]
    try:
        orjson.dumps(value)
        return value
    except (TypeError, orjson.JSONEncodeError):
        return repr(value)
