"""Running an accepted send: who it reaches and what each user gets, recorded as deliveries.

Reach = explicit recipients (deduplicated; ``send_to_existing_only: false`` + ``attributes`` creates the
profile) plus, for broadcasts, the segment / connected audience; minus Global Control Group members for
dashboard-built campaigns and Canvases (API campaigns reach them, seed 001); per channel, only users whose
subscription state allows it (``recipient_subscription_state``, subscription groups for SMS/WhatsApp).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ... import keys
from ...clock import iso
from .directory import Directory, apply_attributes, display_id
from .targeting import Recipient
from .workspace import Workspace

CHANNEL_OF: dict[str, tuple[str, str | None]] = {
    "apple_push": ("push", "ios"), "android_push": ("push", "android"), "kindle_push": ("push", "kindle"),
    "web_push": ("webpush", "web"), "email": ("email", None), "sms": ("sms", None),
    "whats_app": ("whatsapp", None), "webhook": ("webhook", None), "content_card": ("content_card", None),
}
"""Braze messaging object -> the deliveries log's neutral (channel, platform)."""
PUSH = frozenset({"apple_push", "android_push", "kindle_push", "web_push"})
GROUPED = frozenset({"sms", "whats_app"})
LIQUID = re.compile(r"\{\{\s*(?:(\w+)\.)?\$\{([^}]+)\}\s*(?:\|\s*default:\s*(['\"])(.*?)\3\s*)?\}\}")
"""``{{api_trigger_properties.${key}}}``, ``{{context.${key}}}``, ``{{${first_name}}}``, with ``| default: 'x'``."""
PROPERTY_SCOPES = frozenset({"api_trigger_properties", "context", "canvas_entry_properties", "event_properties"})
PROFILE_ALIASES = {"email_address": "email", "user_id": "external_id", "braze_id": "braze_id"}


@dataclass(slots=True)
class Dispatch:
    tenant: str
    operation: str
    dispatch_id: str
    messages: dict[str, dict[str, Any]]
    recipients: list[Recipient]
    campaign_id: str | None = None
    canvas_id: str | None = None
    send_id: str | None = None
    schedule_id: str | None = None
    broadcast: bool = False
    segment_id: str | None = None
    audience: Mapping[str, Any] | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    subscription_state: str = "subscribed"
    include_control_group: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Target:
    profile: dict[str, Any] | None
    name: str
    properties: Mapping[str, Any]


Audience = Callable[[Dispatch, Directory], list[dict[str, Any]]]
"""Broadcast reach (segment / connected audience): provided by the provider's audience support."""


def nobody(dispatch: Dispatch, directory: Directory) -> list[dict[str, Any]]:
    return []


def run(app: web.Application, workspace: Workspace, directory: Directory, dispatch: Dispatch, now: float, *,
        audience: Audience = nobody, due: Callable[[Target], bool] | None = None) -> list[Target]:
    """Record one delivery per reached user and channel; return the users reached (for local-time runs)."""
    targets = [t for t in _dedupe(_explicit(dispatch, directory) + _broadcast(dispatch, directory, audience))
               if dispatch.include_control_group or not _in_control_group(t, workspace)]
    if due is not None:
        targets = [t for t in targets if due(t)]
    deliveries = app[keys.DELIVERIES]
    for target in targets:
        for key, obj in dispatch.messages.items():
            if not eligible(key, obj, target.profile, dispatch.subscription_state, workspace):
                continue
            channel, platform = CHANNEL_OF[key]
            content = render(obj, target.profile, target.properties)
            deliveries.record(
                tenant=dispatch.tenant, vendor="braze", campaign_id=dispatch.campaign_id or dispatch.canvas_id,
                user=target.name, channel=channel, platform=platform, content=content, time=iso(now),
                known=target.profile is not None,
                extra={"dispatch_id": dispatch.dispatch_id, "send_id": dispatch.send_id,
                       "message_variation_id": obj.get("message_variation_id"), "messaging_object": key,
                       "canvas_id": dispatch.canvas_id, "schedule_id": dispatch.schedule_id,
                       "operation": dispatch.operation, **dispatch.extra})
    return targets


def _explicit(dispatch: Dispatch, directory: Directory) -> list[Target]:
    found = []
    for recipient in dispatch.recipients:
        profile = lookup(directory, recipient)
        if profile is None and recipient.send_to_existing_only is False and recipient.kind != "user_alias":
            profile = directory.create(**{_create_arg(recipient.kind): recipient.value})
        if profile is not None and recipient.attributes:
            apply_attributes(profile, recipient.attributes)
        name = display_id(profile, _addressed(recipient))
        found.append(Target(profile, name, {**dispatch.properties, **recipient.properties}))
    return found


def _create_arg(kind: str) -> str:
    return {"external_user_id": "external_id", "email": "email", "braze_id": "external_id"}[kind]


def _addressed(recipient: Recipient) -> str:
    if recipient.kind == "user_alias":
        return f"{recipient.value.get('alias_label')}:{recipient.value.get('alias_name')}"
    return str(recipient.value)


def lookup(directory: Directory, recipient: Recipient) -> dict[str, Any] | None:
    if recipient.kind == "external_user_id":
        return directory.by_external_id(recipient.value)
    if recipient.kind == "user_alias":
        return directory.by_alias(recipient.value)
    if recipient.kind == "braze_id":
        return directory.by_braze_id(recipient.value)
    return prioritized(directory.by_email(recipient.value), recipient.prioritization)


def prioritized(profiles: list[dict[str, Any]], order: tuple[str, ...]) -> dict[str, Any] | None:
    """The profile an email/phone identifies under ``prioritization`` (spec §9.2 values)."""
    for rule in order or ("identified",):
        if rule == "identified":
            pool = [p for p in profiles if p.get("external_id") is not None]
        elif rule == "unidentified":
            pool = [p for p in profiles if p.get("external_id") is None]
        elif rule == "least_recently_updated":
            pool = profiles[:1]
        else:
            pool = profiles[-1:]
        if pool:
            return pool[-1] if rule != "least_recently_updated" else pool[0]
    return None


def _broadcast(dispatch: Dispatch, directory: Directory, audience: Audience) -> list[Target]:
    if not dispatch.broadcast:
        return []
    return [Target(p, display_id(p, p["braze_id"]), dispatch.properties) for p in audience(dispatch, directory)]


def _dedupe(targets: list[Target]) -> list[Target]:
    """Recipients reaching the same user get one message (spec §11.1)."""
    seen: set[str] = set()
    unique = []
    for target in targets:
        key = target.profile["braze_id"] if target.profile is not None else "?" + target.name
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


def _in_control_group(target: Target, workspace: Workspace) -> bool:
    return target.name in workspace.global_control_group


def eligible(key: str, obj: Mapping[str, Any], profile: Mapping[str, Any] | None, wanted: str,
             workspace: Workspace) -> bool:
    """``recipient_subscription_state``: opted_in, subscribed (default: not unsubscribed) or all."""
    if key in GROUPED:
        return _group_member(str(obj.get("subscription_group_id")), profile, workspace)
    if key in PUSH:
        state = (profile or {}).get("push_subscribe", "subscribed")
    elif key == "email":
        state = (profile or {}).get("email_subscribe", "subscribed")
    else:
        return True
    if wanted == "all":
        return True
    if wanted == "opted_in":
        return state == "opted_in"
    return state != "unsubscribed"


def _group_member(group_id: str, profile: Mapping[str, Any] | None, workspace: Workspace) -> bool:
    state = ((profile or {}).get("subscription_groups") or {}).get(group_id)
    if state is not None:
        return state == "subscribed"
    group = workspace.subscription_groups.get(group_id) or {}
    return profile is not None and display_id(profile, "") in group.get("subscribed", [])


def render(obj: Mapping[str, Any], profile: Mapping[str, Any] | None, properties: Mapping[str, Any]) -> Any:
    """The object with Liquid placeholders substituted in every string."""
    def value(match: re.Match[str]) -> str:
        scope, name, default = match[1], match[2].strip(), match[4]
        if scope in PROPERTY_SCOPES:
            found = properties.get(name)
        elif scope in (None, "custom_attribute"):
            found = _profile_value(profile, name, scope is None)
        else:
            found = None
        if found is None:
            return default or ""
        return str(found).lower() if isinstance(found, bool) else str(found)

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return LIQUID.sub(value, node) if "{{" in node else node
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(dict(obj))


def _profile_value(profile: Mapping[str, Any] | None, name: str, standard: bool) -> Any:
    if profile is None:
        return None
    if standard:
        found = profile.get(PROFILE_ALIASES.get(name, name))
        if found is not None:
            return found
    return (profile.get("custom_attributes") or {}).get(name)
