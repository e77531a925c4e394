"""Running an accepted send: who it reaches and what each user gets, recorded as deliveries.

Reach = explicit recipients (deduplicated; ``send_to_existing_only: false`` + ``attributes`` creates the
profile) plus, for broadcasts, everyone in the scope: the segment (``segment_id``, or the campaign's /
Canvas's target segment) AND the connected audience. Known explicit recipients must be in the scope too
("only users that are also in the segment"); recipients unknown to the population are still recorded
(``known: false``). Dashboard-built campaigns and Canvases leave Global Control Group members out; API
campaigns reach them (seed 001). Per channel a user needs a destination (a device of the platform, an
email address, a phone) and a subscription state that ``recipient_subscription_state`` allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.core.clock import iso
from sandbox.core.services import Services
from sandbox.population.audience import UnknownMember
from sandbox.providers.braze import webhooks
from sandbox.providers.braze.audience import to_tree
from sandbox.providers.braze.people import People, display_id
from sandbox.providers.braze.targeting import Recipient
from sandbox.providers.braze.workspace import Workspace
from sandbox.records.deliveries import Send, Target

UNKNOWN_CONTENT = "unknown"
"""The message of a campaign or Canvas whose dashboard content the sandbox does not know (learned from a
trigger call): one delivery per reached user, channel ``unknown``, no subscription or device rule [INF]."""
CHANNEL_OF: dict[str, tuple[str, str | None]] = {
    "apple_push": ("push", "ios"), "android_push": ("push", "android"), "kindle_push": ("push", "kindle"),
    "web_push": ("webpush", "web"), "email": ("email", None), "sms": ("sms", None),
    "whats_app": ("whatsapp", None), "webhook": ("webhook", None), "content_card": ("content_card", None),
    UNKNOWN_CONTENT: (UNKNOWN_CONTENT, None),
}
"""Braze messaging object -> the deliveries log's neutral (channel, platform)."""
DEVICE_PLATFORM = {"apple_push": "ios", "android_push": "android", "kindle_push": "android", "web_push": "web"}
"""Population device platform each push object goes to (Kindle = Fire OS, an Android fork [INF])."""
STATE_CHANNEL = {"apple_push": "push", "android_push": "push", "kindle_push": "push", "web_push": "webpush",
                 "email": "email", "sms": "sms", "whats_app": "whatsapp"}
GROUPED = frozenset({"sms", "whats_app"})
LIQUID = re.compile(r"\{\{\s*(?:(\w+)\.)?\$\{([^}]+)\}\s*(?:\|\s*default:\s*(['\"])(.*?)\3\s*)?\}\}")
"""``{{api_trigger_properties.${key}}}``, ``{{context.${key}}}``, ``{{${first_name}}}``, with ``| default: 'x'``."""
PROPERTY_SCOPES = frozenset({"api_trigger_properties", "context", "canvas_entry_properties", "event_properties"})
PROFILE_ALIASES = {"email_address": "email", "user_id": "external_id", "braze_id": "internal_id",
                   "city": "city", "home_city": "city"}
SEGMENT_PREFIX = "segment:"
GLOBAL_CONTROL_GROUP = "Global Control Group (dashboard campaigns and Canvases leave it out)"
NOT_IN_SCOPE = "not in {what} the send is limited to"
NO_DESTINATION = {"apple_push": "no iOS push token", "android_push": "no Android push token",
                  "kindle_push": "no Kindle push token", "web_push": "no web push token",
                  "email": "no email address, or one marked invalid", "sms": "no phone number",
                  "whats_app": "no phone number"}
"""Skip details (``Send.skip``) when a known user has nowhere to receive a messaging object."""


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
class Reached:
    """A user a dispatch reaches (before channels and devices): the profile (None when unknown), the id as
    addressed, and the properties its messages are rendered with."""

    profile: dict[str, Any] | None
    name: str
    properties: Mapping[str, Any]

    @property
    def key(self) -> str:
        return self.profile["identity"] if self.profile is not None else "?" + self.name


def resolver(workspace: Workspace) -> Callable[[Any], Any]:
    """``{"member_of": "segment:<id>"}`` -> that segment's rules (workspace fixture)."""
    def resolve(member: Any) -> Any:
        text = str(member)
        segment = workspace.segments.get(text[len(SEGMENT_PREFIX):] if text.startswith(SEGMENT_PREFIX) else text)
        if segment is None:
            raise UnknownMember(text)
        return segment.get("members", {"any": []})
    return resolve


def scope_tree(segment_id: str | None, audience: Mapping[str, Any] | None) -> dict[str, Any] | None:
    parts: list[dict[str, Any]] = []
    if segment_id is not None:
        parts.append({"member_of": SEGMENT_PREFIX + segment_id})
    if audience is not None:
        parts.append(to_tree(audience))
    return None if not parts else parts[0] if len(parts) == 1 else {"all": parts}


def _split(targets: list[Reached], keep: Callable[[Reached], bool]) -> tuple[list[Reached], list[Reached]]:
    """(the targets ``keep`` accepts, the others), each in order; ``keep`` runs once per target."""
    kept: list[Reached] = []
    left: list[Reached] = []
    for target in targets:
        (kept if keep(target) else left).append(target)
    return kept, left


def run(services: Services, workspace: Workspace, people: People, dispatch: Dispatch, now: float, *,
        due: Callable[[Reached], bool] | None = None) -> list[Reached]:
    """Record one delivery per reached user, channel and device; return the users reached."""
    scope = scope_tree(dispatch.segment_id, dispatch.audience)
    resolve = resolver(workspace)
    send = services.deliveries.send(
        tenant=dispatch.tenant, vendor="braze", campaign_id=dispatch.campaign_id or dispatch.canvas_id, time=iso(now),
        extra={"dispatch_id": dispatch.dispatch_id, "send_id": dispatch.send_id, "canvas_id": dispatch.canvas_id,
               "schedule_id": dispatch.schedule_id, "operation": dispatch.operation})
    targets = _explicit(dispatch, people)
    if scope is not None and targets:
        matched = people.service.evaluate(scope, tenant=people.tenant, resolve_member=resolve)

        def inside(target: Reached) -> bool:
            row = people.service.row_of(target.profile["identity"], ("identity",), tenant=people.tenant)
            return row is not None and bool(matched[row])

        kept, outside = _split(targets, lambda t: t.profile is None or inside(t))
        if outside:
            _skip_users(send, dispatch, outside, "not_in_audience", NOT_IN_SCOPE.format(what=_scope_name(dispatch)))
            targets = kept
    if dispatch.broadcast:
        members = people.service.members(scope or {"everyone": True}, tenant=people.tenant,
                                         resolve_member=resolve)
        targets += [Reached(p, display_id(p, p["identity"]), dispatch.properties) for p in members]
    targets = _dedupe(targets)
    if not dispatch.include_control_group and workspace.global_control_group:
        targets, held = _split(targets, lambda t: t.name not in workspace.global_control_group)
        if held:
            _skip_users(send, dispatch, held, "control_group", GLOBAL_CONTROL_GROUP)
    if due is not None:
        targets = [t for t in targets if due(t)]
    for target in targets:
        missed: list[tuple[str, str, str | None]] | None = None
        for key, obj in dispatch.messages.items():
            why = ineligible(key, obj, target.profile, dispatch.subscription_state, workspace)
            if why is not None:  # nowhere to send it says more than the subscription does
                why = ("no_channel", NO_DESTINATION.get(key)) if not destinations(key, obj, target.profile) else why
                missed = [*(missed or ()), (key, *why)]
                continue
            channel, platform = CHANNEL_OF[key]
            content = render(obj, target.profile, target.properties)
            devices = destinations(key, obj, target.profile)
            if not devices:
                missed = [*(missed or ()), (key, "no_channel", NO_DESTINATION.get(key))]
            for device in devices:
                delivery = send.deliver(
                    Target(target.name, platform, device, known=target.profile is not None), channel, content,
                    {"message_variation_id": obj.get("message_variation_id"), "messaging_object": key,
                     **dispatch.extra})
                if key == "webhook":
                    webhooks.fire(services, dispatch.tenant, dispatch.operation, content, target.name, delivery.id)
        if missed:
            _skip_missed(send, dispatch, target, missed)
    return targets


def _skip_users(send: Send, dispatch: Dispatch, users: list[Reached], reason: str, detail: str) -> None:
    """Users the dispatch leaves out before any channel: skipped on each channel it sends on."""
    for channel in dict.fromkeys(CHANNEL_OF[key][0] for key in dispatch.messages):
        for user in users:
            send.skip(Target(user.name, known=user.profile is not None), channel, reason, detail)


def _skip_missed(send: Send, dispatch: Dispatch, target: Reached, missed: list[tuple[str, str, str | None]]) -> None:
    """A user is skipped on a channel when none of the dispatch's messaging objects of that channel reached
    them (an iOS-only user of an iOS + Android push is reached); the first object's reason is kept."""
    missed_keys = {key for key, _, _ in missed}
    done: set[str] = set()
    for key, reason, detail in missed:
        channel, platform = CHANNEL_OF[key]
        if channel in done:
            continue
        done.add(channel)
        same = [k for k in dispatch.messages if CHANNEL_OF[k][0] == channel]
        if all(k in missed_keys for k in same):
            send.skip(Target(target.name, platform if len(same) == 1 else None, known=target.profile is not None),
                      channel, reason, detail)


def _scope_name(dispatch: Dispatch) -> str:
    return " and ".join(p for p in (dispatch.segment_id and f"segment {dispatch.segment_id}",
                                    dispatch.audience is not None and "the connected audience") if p)


def _explicit(dispatch: Dispatch, people: People) -> list[Reached]:
    found = []
    for recipient in dispatch.recipients:
        profile = lookup(people, recipient)
        if profile is None and recipient.send_to_existing_only is False and recipient.kind != "user_alias":
            profile = people.create(**{_create_arg(recipient.kind): recipient.value})
        if profile is not None and recipient.attributes:
            profile = people.apply_attributes(profile, recipient.attributes)
        name = display_id(profile, _addressed(recipient))
        found.append(Reached(profile, name, {**dispatch.properties, **recipient.properties}))
    return found


def _create_arg(kind: str) -> str:
    return {"external_user_id": "external_id", "email": "email", "braze_id": "external_id"}[kind]


def _addressed(recipient: Recipient) -> str:
    if recipient.kind == "user_alias":
        return f"{recipient.value.get('alias_label')}:{recipient.value.get('alias_name')}"
    return str(recipient.value)


def lookup(people: People, recipient: Recipient) -> dict[str, Any] | None:
    if recipient.kind == "external_user_id":
        return people.by_external_id(recipient.value)
    if recipient.kind == "user_alias":
        return people.by_alias(recipient.value)
    if recipient.kind == "braze_id":
        return people.by_braze_id(recipient.value)
    return prioritized(people.by_email(recipient.value), recipient.prioritization)


def prioritized(profiles: list[dict[str, Any]], order: tuple[str, ...]) -> dict[str, Any] | None:
    """The profile an email/phone identifies under ``prioritization`` (spec §9.2 values)."""
    for rule in order or ("identified",):
        if rule == "identified":
            pool = [p for p in profiles if p.get("external_id") is not None]
        elif rule == "unidentified":
            pool = [p for p in profiles if p.get("external_id") is None]
        else:
            pool = profiles
        if pool:
            return pool[0] if rule == "least_recently_updated" else pool[-1]
    return None


def _dedupe(targets: list[Reached]) -> list[Reached]:
    """Recipients reaching the same user get one message (spec §11.1)."""
    seen: set[str] = set()
    unique = []
    for target in targets:
        if target.key not in seen:
            seen.add(target.key)
            unique.append(target)
    return unique


def destinations(key: str, obj: Mapping[str, Any], profile: Mapping[str, Any] | None) -> list[str | None]:
    """Devices a push goes to, or [None] for one delivery; [] when a known user cannot get this channel."""
    if profile is None:
        return [None]
    if key in DEVICE_PLATFORM:
        devices = [d for d in profile.get("devices", []) if d.get("platform") == DEVICE_PLATFORM[key]]
        if obj.get("send_to_most_recent_device_only") is True:
            devices = sorted(devices, key=lambda d: d.get("last_active") or 0)[-1:]
        return [d.get("token") for d in devices]
    if key == "email":
        usable = profile.get("email") and not ((profile.get("reachability") or {}).get("email") or {}).get("invalid")
        return [None] if usable else []
    if key in GROUPED:
        return [None] if profile.get("phone") else []
    return [None]


def ineligible(key: str, obj: Mapping[str, Any], profile: Mapping[str, Any] | None, wanted: str,
               workspace: Workspace) -> tuple[str, str] | None:
    """Why ``recipient_subscription_state`` (opted_in, subscribed (default: not unsubscribed) or all) or the
    subscription group leaves the user out of this messaging object: (skip reason, detail), else None."""
    if key in GROUPED:
        group = str(obj.get("subscription_group_id"))
        if _group_member(group, STATE_CHANNEL[key], profile, workspace):
            return None
        return "unsubscribed", f"not subscribed to subscription group {group}"
    if key not in STATE_CHANNEL or wanted == "all":
        return None
    state = (((profile or {}).get("reachability") or {}).get(STATE_CHANNEL[key]) or {}).get("state", "subscribed")
    if wanted == "opted_in" and state != "opted_in":
        return ("unsubscribed" if state == "unsubscribed" else "not_opted_in"), f"{key}: {state}"
    if state == "unsubscribed":
        return "unsubscribed", f"{key}: unsubscribed"
    return None



def _group_member(group_id: str, channel: str, profile: Mapping[str, Any] | None, workspace: Workspace) -> bool:
    """The profile's own group state, else the workspace group's list, else the population's
    channel subscription (subscribed or opted in, not DND) [INF]."""
    state = ((profile or {}).get("subscription_groups") or {}).get(group_id)
    if state is not None:
        return state == "subscribed"
    group = workspace.subscription_groups.get(group_id) or {}
    name = display_id(profile, "") if profile is not None else ""
    if name in group.get("unsubscribed", []):
        return False
    if name in group.get("subscribed", []):
        return True
    reach = ((profile or {}).get("reachability") or {}).get(channel)
    return bool(reach) and reach.get("state") != "unsubscribed" and not reach.get("dnd")


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
    return (profile.get("properties") or {}).get(name)
