"""Braze's rate limits (spec §4): per workspace (= tenant) and endpoint group, in fixed windows.

Counted on every authenticated call for the ``X-Ratelimit-*`` headers; answered with 429 only when limits
are enforced (``--rate-limits`` or ``POST /_sandbox/limits``). Counting lives in ``sandbox.core.ratelimit``.
"""

from __future__ import annotations

from typing import Any

from sandbox.core.ratelimit import Applied, Limit

DEFAULT = Limit("default", 250_000, 3600)
"""250,000 / hour per workspace, shared by every endpoint not listed [V-doc api_limits.md] §4."""
BROADCAST = Limit("broadcast", 250, 60)
"""messages/campaigns/canvas sends targeting a segment or connected audience: 250 / minute [V-doc] §4."""
SEND_IDS = Limit("sends_id_create", 100, 86_400)
"""/sends/id/create: 100 / day [V-doc] §4."""
USERS_TRACK = Limit("users_track", 3000, 3)
"""/users/track: 3,000 / 3 s [V-doc] §4."""
USERS_EXPORT = Limit("users_export_ids", 250, 60)
"""/users/export/ids: 250 / min [V-doc] §4."""
USERS_IDENTITY = Limit("users_identity", 20_000, 60)
"""/users/delete, /users/alias/new, /users/identify: 20,000 / min shared [V-doc] §4."""
DATA_SERIES = Limit("campaigns_data_series", 50_000, 60)
"""/campaigns/data_series: 50,000 / min [V-doc] §4."""

LIMITS: dict[str, Limit] = {limit.group: limit for limit in (DEFAULT, BROADCAST, SEND_IDS, USERS_TRACK,
                                                              USERS_EXPORT, USERS_IDENTITY, DATA_SERIES)}
BY_OPERATION: dict[str, Limit] = {
    "sends_id_create": SEND_IDS,
    "users_track": USERS_TRACK,
    "users_export_ids": USERS_EXPORT,
    "users_delete": USERS_IDENTITY,
    "users_alias_new": USERS_IDENTITY,
    "users_identify": USERS_IDENTITY,
    "campaigns_data_series": DATA_SERIES,
}
BROADCASTABLE = frozenset({"messages_send", "campaigns_trigger_send", "canvas_trigger_send"})
UNLIMITED = frozenset({"transactional_send"})
"""``/transactional/v1/campaigns/{id}/send``: no rate limit, excess still sends [V-doc] §4. Counted in the
default window for the headers, never answered 429."""


def limit_for(operation: str, body: Any) -> Limit:
    if operation in BROADCASTABLE and isinstance(body, dict) and body.get("broadcast") is True:
        return BROADCAST
    return BY_OPERATION.get(operation, DEFAULT)


_APPLIED: dict[tuple[str, str, bool], Applied] = {}


def applied(operation: str, body: Any, *, enforced: bool = True) -> Applied:
    limit = limit_for(operation, body)
    key = (operation, limit.group, enforced)
    found = _APPLIED.get(key)
    if found is None:
        found = _APPLIED[key] = Applied(limit, limit.group, enforced and operation not in UNLIMITED)
    return found
