"""Evaluate a neutral condition tree over an ``Index`` as a numpy boolean mask; estimates; recipients.

Estimate keys per channel (what ``estimate`` returns):

- ``push``: one key per requested platform (default ``android`` and ``ios``). Each reachable user counts
  once, under the platform of their most recently active device among the requested platforms (the
  "last active device" rule; on a tie the device listed last wins); with ``count_devices=True`` every
  device on those platforms counts.
- ``webpush``: ``{"web": N}`` (users, or web devices with ``count_devices``).
- ``email`` / ``sms`` / ``whatsapp``: ``{"email": N}`` / ``{"sms": N}`` / ``{"whatsapp": N}`` users.
- ``None`` (webhooks and channels without reachability): ``{"users": N}`` matching users.
"""

from __future__ import annotations

import contextlib
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sandbox.population.audience.index import PLATFORM_CODES, PUSH_PLATFORMS, STATE_CODES, Column, Index
from sandbox.population.audience.tree import (
    DAYS_OPS,
    NEGATED_OPS,
    node_kind,
    parse_date,
    validate_tree,
)

MemberResolver = Callable[[str | int], Mapping[str, Any] | Sequence[str] | None]
_DAY = 86400.0
_BOOL_STRINGS = {"true": True, "false": False}


class UnknownMember(LookupError):
    """``member_of`` named an id the resolver does not know (or no resolver was given)."""

    def __init__(self, member: str | int) -> None:
        super().__init__(f"unknown segment or list {member!r}")
        self.member = member


class _Context:
    def __init__(self, index: Index, resolve_member: MemberResolver | None, now: float | None) -> None:
        self.index = index
        self.resolve_member = resolve_member
        self.now = now if now is not None else index.reference_ts
        self.members: dict[str, np.ndarray] = {}
        self.resolving: set[str] = set()

    def require_now(self) -> float:
        if self.now is None:
            raise ValueError("this tree uses relative dates: pass now= or build the index with reference_ts")
        return float(self.now)


def evaluate(tree: Mapping[str, Any], index: Index, *, resolve_member: MemberResolver | None = None,
             now: float | None = None, validate: bool = True) -> np.ndarray:
    """Boolean mask over the index rows of the profiles matching ``tree`` (validated first, unless the
    caller already did: ``validate=False``)."""
    if validate:
        validate_tree(tree)
    return _eval(tree, _Context(index, resolve_member, now)) & index.alive


def _eval(node: Mapping[str, Any], ctx: _Context) -> np.ndarray:
    index = ctx.index
    kind = node_kind(node)
    if kind == "everyone":
        return np.ones(index.n, dtype=bool)
    if kind == "all":
        mask = np.ones(index.n, dtype=bool)
        for child in node["all"]:
            mask &= _eval(child, ctx)
        return mask
    if kind == "any":
        mask = np.zeros(index.n, dtype=bool)
        for child in node["any"]:
            mask |= _eval(child, ctx)
        return mask
    if kind == "not":
        return ~_eval(node["not"], ctx)
    if kind == "attribute":
        return compare(index.column(node["attribute"]), node, ctx)
    if kind == "event":
        return _event(node, ctx)
    if kind == "reachable":
        return index.reachable(node["reachable"], _as_list(node.get("platform")) or None).copy()
    if kind == "subscription":
        return _subscription(node, ctx)
    return _member(node["member_of"], ctx)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# -- comparisons ---------------------------------------------------------------------------------------
def compare(col: Column, cond: Mapping[str, Any], ctx: _Context) -> np.ndarray:
    """Entity mask of ``col`` for one ``{"op", "value", "ignore_case"}`` comparison."""
    op = cond["op"]
    if op in NEGATED_OPS:
        return ~compare(col, {**cond, "op": NEGATED_OPS[op]}, ctx)
    if op == "exists":
        return col.present.copy()
    hit = np.zeros(len(col.uniq), dtype=bool)
    ignore_case = bool(cond.get("ignore_case"))
    for value in _as_list(cond.get("value")):
        hit |= _unique_hits(col, op, value, ignore_case, ctx)
    return col.spread(hit)


def _unique_hits(col: Column, op: str, value: Any, ignore_case: bool, ctx: _Context) -> np.ndarray:
    if op == "equals":
        return _equals(col, value, ignore_case)
    if op in ("contains", "starts_with", "ends_with"):
        strings = col.u_lower if ignore_case else col.u_str
        needle = value.lower() if ignore_case else value
        if "\0" in needle or col.u_nul:
            return _string_hits(col, op, needle, ignore_case)
        if op == "contains":
            found = np.strings.find(strings, needle) >= 0
        elif op == "starts_with":
            found = np.strings.startswith(strings, needle)
        else:
            found = np.strings.endswith(strings, needle)
        return col.u_isstr & found
    if op == "matches_regex":
        pattern = re.compile(value, re.IGNORECASE if ignore_case else 0)
        return np.array([isinstance(v, str) and pattern.search(v) is not None for v in col.uniq], dtype=bool)
    with np.errstate(invalid="ignore"):
        if op in ("greater_than", "greater_than_equals", "less_than", "less_than_equals"):
            return COMPARE[op](col.u_num, float(value))
        if op == "before":
            return col.u_date < float(parse_date(value))  # type: ignore[arg-type]
        if op == "after":
            return col.u_date > float(parse_date(value))  # type: ignore[arg-type]
        if op in DAYS_OPS:
            now, span = ctx.require_now(), float(value) * _DAY
            dates = col.u_date
            if op == "within_last_days":
                return (dates >= now - span) & (dates <= now)
            if op == "more_than_days_ago":
                return dates < now - span
            if op == "within_next_days":
                return (dates >= now) & (dates <= now + span)
            return dates > now + span
    raise ValueError(f"operator {op!r} is not supported")


def _equals(col: Column, value: Any, ignore_case: bool) -> np.ndarray:
    if isinstance(value, bool):
        return col.u_bool == int(value)
    if isinstance(value, int | float):
        return col.u_num == float(value)
    if "\0" in value or col.u_nul:
        hit = _string_hits(col, "equals", value.lower() if ignore_case else value, ignore_case)
    else:
        hit = col.u_isstr & ((col.u_lower == value.lower()) if ignore_case else (col.u_str == value))
    as_bool = _BOOL_STRINGS.get(value.lower())
    if as_bool is not None:  # "True"/"False" match booleans and boolean-like strings in any case
        hit |= col.u_bool == int(as_bool)
    with contextlib.suppress(ValueError):
        hit |= col.u_num == float(value)
    return hit


_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "equals": str.__eq__, "contains": str.__contains__, "starts_with": str.startswith, "ends_with": str.endswith}


def _string_hits(col: Column, op: str, needle: str, ignore_case: bool) -> np.ndarray:
    """``op`` over the column's distinct strings in Python, where a value or a string holds NUL: numpy's
    string routines ignore NULs at the end (``"b\\0"`` would equal ``"b"``)."""
    test = _STRING_TESTS[op]
    return np.array([isinstance(v, str) and test(v.lower() if ignore_case else v, needle) for v in col.uniq],
                    dtype=bool)


COMPARE: dict[str, Callable[[Any, float], Any]] = {
    "equals": operator.eq, "not_equals": operator.ne, "greater_than": operator.gt,
    "greater_than_equals": operator.ge, "less_than": operator.lt, "less_than_equals": operator.le}
"""A numeric or count operator (``NUMERIC_OPS``, ``COUNT_OPS``) as a function: over arrays (here) and single
numbers (``rowwise``) alike."""


# -- events, subscriptions, members --------------------------------------------------------------------
def _event(node: Mapping[str, Any], ctx: _Context) -> np.ndarray:
    index = ctx.index
    count = node.get("count") or {"op": "greater_than_equals", "value": 1}
    table = index.event(node["event"])
    if table is None:
        counts = np.zeros(index.n, dtype=np.int64)
    else:
        selected = np.ones(len(table.rows), dtype=bool)
        if "from" in node:
            selected &= table.ts >= float(node["from"])
        if "to" in node:
            selected &= table.ts <= float(node["to"])
        if "last_days" in node:
            now = ctx.require_now()
            selected &= (table.ts >= now - float(node["last_days"]) * _DAY) & (table.ts <= now)
        for prop in node.get("properties") or ():
            if not selected.any():
                break
            selected &= compare(table.column(prop["name"]), prop, ctx)
        counts = np.bincount(table.rows[selected], minlength=index.n)
    return COMPARE[count["op"]](counts, float(count["value"]))


def occurrences(node: Mapping[str, Any], index: Index, users: np.ndarray, *, now: float | None = None) -> np.ndarray:
    """Which occurrences of ``node``'s event (``from``/``to`` window, ``properties``) belong to ``users``
    (a row mask): a mask over ``index.event(node["event"])``'s occurrences (empty if there are none)."""
    table = index.event(node["event"])
    if table is None:
        return np.zeros(0, dtype=bool)
    selected = users[table.rows]
    if "from" in node:
        selected &= table.ts >= float(node["from"])
    if "to" in node:
        selected &= table.ts <= float(node["to"])
    ctx = _Context(index, None, now)
    for prop in node.get("properties") or ():
        selected &= compare(table.column(prop["name"]), prop, ctx)
    return selected


def _subscription(node: Mapping[str, Any], ctx: _Context) -> np.ndarray:
    reach = ctx.index.reach(node["subscription"])
    mask = np.zeros(ctx.index.n, dtype=bool)
    for state in _as_list(node["state"]):
        if state == "invalid":
            mask |= reach.invalid
        elif state == "dnd":
            mask |= reach.dnd
        else:
            mask |= reach.state == STATE_CODES[state]
    return mask


def _member(member: str | int, ctx: _Context) -> np.ndarray:
    key = str(member)
    cached = ctx.members.get(key)
    if cached is not None:
        return cached
    if key in ctx.resolving:
        raise ValueError(f"member_of {member!r} refers to itself")
    resolved = ctx.resolve_member(member) if ctx.resolve_member is not None else None
    if resolved is None:
        raise UnknownMember(member)
    ctx.resolving.add(key)
    try:
        if isinstance(resolved, Mapping):
            validate_tree(resolved, f"$member_of[{member!r}]")
            mask = _eval(resolved, ctx)
        else:
            mask = np.zeros(ctx.index.n, dtype=bool)
            for value in resolved:
                row = ctx.index.row_of(str(value))
                if row is not None:
                    mask[row] = True
    finally:
        ctx.resolving.discard(key)
    ctx.members[key] = mask
    return mask


# -- estimates and recipients --------------------------------------------------------------------------
def _platforms(channel: str, platforms: Iterable[str] | None) -> list[str]:
    if channel == "push":
        return [p for p in (platforms or PUSH_PLATFORMS) if p in PUSH_PLATFORMS]
    return ["web"]


def _device_picks(index: Index, mask: np.ndarray, platforms: list[str], all_devices: bool) -> np.ndarray:
    """Positions in ``index.devices()`` of the devices a campaign would reach for the rows in ``mask``."""
    positions, rows = index.device_selection(platforms, last_only=not all_devices)
    return positions[mask[rows]]


def estimate(tree: Mapping[str, Any], index: Index, *, channel: str | None,
             platforms: Iterable[str] | None = None, count_devices: bool = False,
             resolve_member: MemberResolver | None = None, now: float | None = None) -> dict[str, int]:
    """Reachable counts keyed as described in the module docstring."""
    mask = evaluate(tree, index, resolve_member=resolve_member, now=now)
    return count_reach(mask, index, channel=channel, platforms=platforms, count_devices=count_devices)


def count_reach(mask: np.ndarray, index: Index, *, channel: str | None, platforms: Iterable[str] | None = None,
                count_devices: bool = False) -> dict[str, int]:
    """``estimate``'s counts for the rows selected in ``mask``."""
    return count_rows(np.flatnonzero(mask), index, channel=channel, platforms=platforms, count_devices=count_devices)


def count_rows(rows: np.ndarray, index: Index, *, channel: str | None, platforms: Iterable[str] | None = None,
               count_devices: bool = False) -> dict[str, int]:
    """``estimate``'s counts for the (distinct) ``rows``: work in proportion to them, not to the index."""
    if channel is None:
        return {"users": len(rows)}
    wanted = list(platforms) if platforms is not None else None
    rows = rows[index.reachable(channel, wanted)[rows]]
    if channel not in ("push", "webpush"):
        return {channel: len(rows)}
    keys = _platforms(channel, wanted)
    if count_devices:
        mask = np.zeros(index.n, dtype=bool)
        mask[rows] = True
        picks = _device_picks(index, mask, keys, True)
        counts = np.bincount(index.devices().platform[picks].astype(np.int64), minlength=len(PLATFORM_CODES))
    else:  # one device per user: a gather of the users' picked platforms, no pass over the devices
        picked = index.last_device_platform(keys)[rows].astype(np.int64)
        counts = np.bincount(picked + 1, minlength=len(PLATFORM_CODES) + 1)[1:]
    return {p: int(counts[PLATFORM_CODES[p]]) for p in keys}


def matching_rows(tree: Mapping[str, Any], index: Index, *, resolve_member: MemberResolver | None = None,
                  now: float | None = None) -> np.ndarray:
    return np.flatnonzero(evaluate(tree, index, resolve_member=resolve_member, now=now))


def sample_identities(tree: Mapping[str, Any], index: Index, *, limit: int = 10,
                      resolve_member: MemberResolver | None = None, now: float | None = None) -> list[str]:
    """The first ``limit`` matching identities in row order (deterministic)."""
    rows = matching_rows(tree, index, resolve_member=resolve_member, now=now)[:limit]
    return index.identities(rows)


def recipients(tree: Mapping[str, Any], index: Index, *, channel: str | None,
               platforms: Iterable[str] | None = None, all_devices: bool = False, limit: int | None = None,
               resolve_member: MemberResolver | None = None,
               now: float | None = None) -> list[dict[str, Any]]:
    """One dict per delivery target: ``row``, ``identity`` and ``platform`` + ``token`` (push/webpush),
    ``email`` or ``phone``; in row order. Same selection rules as ``estimate``."""
    mask = evaluate(tree, index, resolve_member=resolve_member, now=now)
    return recipients_of(mask, index, channel=channel, platforms=platforms, all_devices=all_devices, limit=limit)


UNSUBSCRIBED, DND, NO_CHANNEL, NOT_FOUND = "unsubscribed", "dnd", "no_channel", "not_found"
"""Why a matching user cannot receive a channel (keys of ``sandbox.records.deliveries.REASONS``)."""


@dataclass(slots=True)
class Unreached:
    """Filled by ``recipients``: matching users who cannot receive the channel, per reason (``unreached_of``):
    how many, and the first ``sample`` of them as view rows."""

    sample: int
    counts: dict[str, int] = field(default_factory=dict)
    rows: dict[str, list[int]] = field(default_factory=dict)


def unreached_of(mask: np.ndarray, index: Index, *, channel: str,
                 platforms: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """The rows of ``mask`` that cannot receive ``channel``, by reason: ``unsubscribed`` (the channel's state),
    ``dnd`` (SMS/WhatsApp, with a usable phone), ``no_channel`` (no device of the platforms, no address, or an
    address marked invalid). Empty when everyone in ``mask`` is reachable (one vector test)."""
    wanted = list(platforms) if platforms is not None else None
    missed = mask & ~index.reachable(channel, wanted) & index.alive
    if not missed.any():
        return {}
    reach = index.reach(channel)
    unsubscribed = missed & (reach.state == STATE_CODES["unsubscribed"])
    rest = missed & ~unsubscribed
    out = {UNSUBSCRIBED: unsubscribed}
    if channel in ("sms", "whatsapp"):
        dnd = rest & reach.dnd & ~reach.invalid & index.has_contact("phone")
        out[DND] = dnd
        rest &= ~dnd
    out[NO_CHANNEL] = rest
    return {reason: rows for reason, rows in out.items() if rows.any()}


def unreached_reason(index: Index, row: int, channel: str, platforms: Iterable[str] | None = None) -> str | None:
    """``unreached_of`` for one row: why it cannot receive ``channel`` (``not_found`` once deleted), or None
    when it can."""
    wanted = list(platforms) if platforms is not None else None
    if index.reachable(channel, wanted)[row]:
        return None
    if not index.alive[row]:
        return NOT_FOUND
    reach = index.reach(channel)
    if reach.state[row] == STATE_CODES["unsubscribed"]:
        return UNSUBSCRIBED
    if channel in ("sms", "whatsapp") and reach.dnd[row] and not reach.invalid[row] \
            and index.has_contact("phone")[row]:
        return DND
    return NO_CHANNEL


def recipients_of(mask: np.ndarray, index: Index, *, channel: str | None, platforms: Iterable[str] | None = None,
                  all_devices: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    """``recipients`` for the rows already selected in ``mask`` (modified in place)."""
    wanted = list(platforms) if platforms is not None else None
    if channel is not None:
        mask &= index.reachable(channel, wanted)
    out: list[dict[str, Any]] = []
    if channel in ("push", "webpush"):
        devices = index.devices()
        names = {code: name for name, code in PLATFORM_CODES.items()}
        for pos in _device_picks(index, mask, _platforms(channel, wanted), all_devices)[:limit]:
            row = int(devices.rows[pos])
            out.append({"row": row, "identity": index.value(row, "identity"),
                        "platform": names[int(devices.platform[pos])], "token": devices.tokens[pos]})
        return out
    field = {"email": "email", "sms": "phone", "whatsapp": "phone"}.get(channel or "")
    for row in np.flatnonzero(mask)[:limit]:
        entry = {"row": int(row), "identity": index.value(int(row), "identity")}
        if field:
            entry[field] = index.value(int(row), field)
        out.append(entry)
    return out
