"""Who a send addresses, and the targeting matrix (spec §11.1, §13): broadcast vs recipients, limits, one
identifier per recipient, ``prioritization`` for email recipients, ``send_to_existing_only``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.providers.braze import errors, learn
from sandbox.providers.braze.errors import BrazeFail

if TYPE_CHECKING:
    from sandbox.providers.braze.context import Context

IDENTIFIERS = ("external_user_id", "user_alias", "braze_id", "email")
"""Exactly one per recipient [V-doc recipient_object.md] (spec §11.1)."""


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: str
    """external_user_id, user_alias, braze_id or email."""
    value: Any
    properties: Mapping[str, Any] = field(default_factory=dict)
    """Per-recipient ``trigger_properties`` / ``context`` (override the top-level ones)."""
    attributes: Mapping[str, Any] | None = None
    send_to_existing_only: bool = True
    prioritization: tuple[str, ...] = ()


def messaging_recipients(body: Mapping[str, Any], ctx: Context) -> list[Recipient]:
    """``/messages/send`` and ``/messages/schedule/create`` (spec §6.1, §13)."""
    ids = body.get("external_user_ids") or []
    aliases = body.get("user_aliases") or []
    if len(ids) + len(aliases) > errors.MAX_PER_REQUEST:
        raise BrazeFail(errors.MAX_EXTERNAL_IDS)
    has_users = bool(ids or aliases)
    if not has_users and body.get("segment_id") is None and body.get("audience") is None:
        raise BrazeFail(errors.NO_RECIPIENTS)
    _broadcast(body, has_users)
    if body.get("send_id") is not None and body.get("campaign_id") is None:
        raise BrazeFail(errors.SEND_ID_REQUIRES_CAMPAIGN)
    if body.get("segment_id") is not None:
        learn.segment(ctx, body["segment_id"])
    return ([Recipient("external_user_id", str(i)) for i in ids]
            + [Recipient("user_alias", dict(a)) for a in aliases])


def trigger_recipients(body: Mapping[str, Any], properties_key: str) -> list[Recipient]:
    """Trigger sends and schedules (spec §6.2, §6.3, §13); ``properties_key`` is trigger_properties/context."""
    recipients = body.get("recipients") or []
    if body.get("broadcast") is True and recipients:
        raise BrazeFail(errors.BROADCAST_WITH_RECIPIENTS)
    if body.get("broadcast") is not True and not recipients and body.get("audience") is None:
        raise BrazeFail(errors.BROADCAST_REQUIRED)
    if len(recipients) > errors.MAX_PER_REQUEST:
        raise BrazeFail(errors.MAX_EXTERNAL_IDS)
    if body.get("broadcast") is True and body.get("attachments"):
        raise BrazeFail(errors.bad_value(("attachments",)))
    return [recipient(r, ("recipients", i), properties_key) for i, r in enumerate(recipients)]


def _broadcast(body: Mapping[str, Any], has_recipients: bool) -> None:
    broadcast = body.get("broadcast") is True
    if broadcast and has_recipients:
        raise BrazeFail(errors.BROADCAST_WITH_RECIPIENTS)
    if not broadcast and not has_recipients:
        raise BrazeFail(errors.BROADCAST_REQUIRED)


def recipient(raw: Mapping[str, Any], where: tuple[str | int, ...], properties_key: str,
              identifiers: tuple[str, ...] = IDENTIFIERS) -> Recipient:
    present = [name for name in identifiers if raw.get(name) is not None]
    if len(present) != 1:
        names = present if len(present) > 1 else identifiers
        raise BrazeFail(errors.exactly_one([(*where, name) for name in names], len(present)))
    kind = present[0]
    if kind == "email" and not raw.get("prioritization"):
        raise BrazeFail(errors.missing((*where, "prioritization")))
    existing_only = raw.get("send_to_existing_only", True)
    if existing_only is False:
        if kind == "user_alias":
            raise BrazeFail(errors.bad_value((*where, "send_to_existing_only")))
        if not isinstance(raw.get("attributes"), dict):
            raise BrazeFail(errors.missing((*where, "attributes")))
    properties = raw.get(properties_key)
    if properties is None and properties_key == "context":
        properties = raw.get("canvas_entry_properties")
    value = raw[kind]
    return Recipient(kind, dict(value) if kind == "user_alias" else str(value), properties or {},
                     raw.get("attributes"), existing_only, tuple(raw.get("prioritization") or ()))
