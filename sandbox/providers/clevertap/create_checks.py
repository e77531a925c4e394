"""The rules of ``POST /1/targets/create.json`` beyond the schema's types (seed 003, spec §6.1, §6.7).

``check`` runs them in a fixed order (name, when, content of the target mode, where/segment, Android
channel, control group, provider, ttl) and raises the first failure with CleverTap's text. It never
rejects unknown keys. Dashboard references (segment, channel, control group, provider nicknames) go through
``References``: learned in learn mode, CleverTap's error in strict mode.
Each rule has a row in ``tests/providers/clevertap/test_targets_create.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sandbox.providers.clevertap import errors
from sandbox.providers.clevertap.account import PROVIDER_CHANNELS
from sandbox.providers.clevertap.audience import CqlError, segment_tree, translate

if TYPE_CHECKING:
    from sandbox.providers.clevertap.dashboard_data import References

TARGET_MODES = ("push", "webpush", "email", "sms", "webhook", "notificationinbox", "whatsapp")
REQUIRED_CONTENT: dict[str, tuple[str, ...]] = {
    "push": ("title", "body"), "webpush": ("title", "body"), "email": ("subject", "body"), "sms": ("body",),
    "whatsapp": ("template_name",),
}
"""Required non-empty strings of ``content`` per target mode [V-seed 003; V-QA for title/body/subject]."""
DEFAULT_DEVICES: dict[str, tuple[str, ...]] = {"push": ("android", "ios"), "notificationinbox": ("android", "ios")}
WHEN_FORMAT = "%Y%m%d %H:%M"
WHATSAPP_ATTACHMENTS = ("Document", "Location", "Image", "Video")
WHATSAPP_HEADERS = ("image", "document", "video", "text", "location")
INBOX_TEMPLATES = ("simple", "carousel", "carousel-image", "message-icon")
INBOX_MEDIA_REQUIRED = ("carousel", "carousel-image")
""""media & template_type is mandatory" [V-seed 003 comments on the carousel examples]."""
WEBHOOK_FIELDS = ("profile-attributes", "tokens", "identities")


@dataclass(frozen=True, slots=True)
class CreateRequest:
    name: str
    target_mode: str
    when: float | None
    """Epoch seconds of a scheduled run; None = now."""
    tree: dict[str, Any]
    devices: tuple[str, ...]
    control_percentage: float
    """Share of the audience held out by a campaign or custom control group (0 = none)."""
    control_salt: str
    ttl_minutes: float | None
    ttl_until: float | None


def fail(text: str, code: int = errors.TARGETS_ERROR_CODE) -> errors.CleverTapFail:
    return errors.CleverTapFail((code, text), status=errors.TARGETS_ERROR_STATUS)


def invalid(field: str, reason: str) -> errors.CleverTapFail:
    return fail(errors.FIELD_INVALID.format(field=field, reason=reason))


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def check(body: dict[str, Any], refs: References) -> CreateRequest:
    if _empty(body.get("name")) or (isinstance(body["name"], str) and not body["name"].strip()):
        raise fail(errors.NAME_EMPTY)
    when = parse_when(body.get("when"))
    mode = body.get("target_mode") or "push"
    check_content(mode, body)
    tree = audience(body, refs.segment)
    devices = tuple(body.get("devices") or DEFAULT_DEVICES.get(mode, ()))
    if mode == "push" and "android" in (body.get("devices") or ()):
        check_android_channel(body, refs)
    percentage, salt = control_group(body, refs)
    check_provider(mode, body, refs)
    minutes, until = ttl(body.get("ttl"))
    return CreateRequest(str(body["name"]), mode, when, tree, devices, percentage, salt, minutes, until)


def parse_when(value: Any) -> float | None:
    if _empty(value):
        raise fail(errors.WHEN_EMPTY)
    if isinstance(value, dict):  # {"type": "later", "delivery_date_time": ["20230503 15:20"], ...} [3P]
        if value.get("type") == "now":
            return None
        times = value.get("delivery_date_time")
        if value.get("type") != "later" or not isinstance(times, list) or not times:
            raise invalid("when", 'expected "now", "YYYYMMDD HH:MM" or {"type": "later", "delivery_date_time": '
                                  '["YYYYMMDD HH:MM"]}')
        value = times[0]
    if value == "now":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return datetime.strptime(value, WHEN_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise invalid("when", f'expected "now" or "YYYYMMDD HH:MM", got {value!r}') from None


def check_content(mode: str, body: dict[str, Any]) -> None:
    content = body.get("content")
    if mode == "webhook":
        if _empty(body.get("webhook_endpoint_name")):
            raise fail(errors.FIELD_EMPTY.format(field="webhook_endpoint_name"))
        for value in body.get("webhook_fields") or ():
            if value not in WEBHOOK_FIELDS:
                raise invalid("webhook_fields", f"{value!r} is not one of {', '.join(WEBHOOK_FIELDS)}")
        return
    if mode == "notificationinbox":
        _inbox(body, content)
        return
    if not isinstance(content, dict):
        content = {}
    for name in REQUIRED_CONTENT[mode]:
        if _empty(content.get(name)) or (isinstance(content[name], str) and not content[name].strip()):
            raise fail(errors.CONTENT_FIELD_EMPTY.format(field=name))
    if mode == "whatsapp":
        _whatsapp(content)


def _whatsapp(content: dict[str, Any]) -> None:
    attachments = content.get("attachments")
    if attachments is not None:
        if not isinstance(attachments, dict) or attachments.get("type") not in WHATSAPP_ATTACHMENTS:
            raise invalid("attachments", f"type must be one of {', '.join(WHATSAPP_ATTACHMENTS)}")
        if _empty(attachments.get("value")):
            raise fail(errors.CONTENT_FIELD_EMPTY.format(field="attachments.value"))
    header = content.get("header")
    if header is not None:
        if not isinstance(header, dict) or header.get("type") not in WHATSAPP_HEADERS:
            raise invalid("header", f"type must be one of {', '.join(WHATSAPP_HEADERS)}")
        if header["type"] == "text":
            if not isinstance(header.get("replacements"), list):
                raise invalid("header.replacements", "a text header needs an array of replacements")
        elif not isinstance(header.get("media"), dict):
            raise fail(errors.CONTENT_FIELD_EMPTY.format(field="header.media"))
    inner = content.get("body")
    if inner is not None and (not isinstance(inner, dict) or not isinstance(inner.get("replacements", []), list)):
        raise invalid("body", 'expected {"replacements": [...]}')
    buttons = content.get("buttons")
    if buttons is not None and (not isinstance(buttons, list) or not all(
            isinstance(b, dict) and isinstance(b.get("replacements", []), list) for b in buttons)):
        raise invalid("buttons", 'expected [{"replacements": [...]}]')
    replacements = content.get("replacements")
    if replacements is not None and not isinstance(replacements, dict):
        raise invalid("replacements", 'expected {"1": ..., "2": ...}')


def _inbox(body: dict[str, Any], content: Any) -> None:
    template = body.get("template_type")
    if _empty(template):
        raise fail(errors.FIELD_EMPTY.format(field="template_type"))
    if template not in INBOX_TEMPLATES:
        raise invalid("template_type", f"{template!r} is not one of {', '.join(INBOX_TEMPLATES)}")
    if not isinstance(content, list) or not content:
        raise fail(errors.FIELD_EMPTY.format(field="content"))
    for item in content:
        if not isinstance(item, dict):
            raise invalid("content", "each inbox message must be an object")
        if template in INBOX_MEDIA_REQUIRED and _empty(item.get("media")):
            raise fail(errors.CONTENT_FIELD_EMPTY.format(field="media"))
        if template in ("simple", "message-icon"):
            for name in ("title", "message"):
                part = item.get(name)
                if not isinstance(part, dict) or _empty(part.get("text")):
                    raise fail(errors.CONTENT_FIELD_EMPTY.format(field=f"{name}.text"))
    orientation = body.get("orientation")
    if orientation is not None and orientation not in ("p", "l"):
        raise invalid("orientation", f"{orientation!r} is not p or l")


def audience(body: dict[str, Any], segment_known: Callable[[Any], None]) -> dict[str, Any]:
    """The neutral tree of ``where`` / ``segment``; ``segment_known(id)`` raises for a segment it rejects."""
    segment = body.get("segment")
    if segment is not None:
        if segment != "all":
            segment_known(segment)
        base = segment_tree(segment)
        where = body.get("where")
        return base if not isinstance(where, dict) else {"all": [base, _where(where)]}
    if "where" not in body or not isinstance(body["where"], dict):
        raise fail(errors.WHERE_PARSE_FAILED)
    return _where(body["where"])


def _where(where: dict[str, Any]) -> dict[str, Any]:
    try:
        return translate(where)
    except CqlError as exc:
        raise fail(exc.wire) from None


def check_android_channel(body: dict[str, Any], refs: References) -> None:
    content = body.get("content") if isinstance(body.get("content"), dict) else {}
    platforms = content.get("platform_specific")
    android = (platforms.get("android") if isinstance(platforms, dict) else None) or {}
    channel = android.get("wzrk_cid") if isinstance(android, dict) else None
    channel = channel or body.get("wzrk_cid")  # the doc's table lists it top-level [V-seed]
    if _empty(channel):
        raise errors.CleverTapFail(errors.ANDROID_CHANNEL_REQUIRED)
    if not isinstance(channel, str):
        raise fail(errors.ANDROID_CHANNEL_INVALID)
    refs.channel(channel)


def control_group(body: dict[str, Any], refs: References) -> tuple[float, str]:
    group = body.get("control_group")
    if group is None:
        return 0.0, ""
    kind = group.get("type")
    if kind == "custom":
        name = group.get("name")
        if _empty(name):
            raise fail(errors.FIELD_EMPTY.format(field="control_group.name"))
        return refs.control_group(name), f"custom:{name}"
    if kind == "campaign":
        pct = group.get("percentage")
        if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 < pct < 100:
            raise invalid("control_group.percentage", "must be a number above 0 and below 100")
        return float(pct), "campaign"
    raise invalid("control_group.type", 'must be "custom" or "campaign"')


def check_provider(mode: str, body: dict[str, Any], refs: References) -> None:
    """Provider nicknames matter for sms, email and whatsapp only (push ignores them)."""
    if mode not in PROVIDER_CHANNELS:
        return
    nick = body.get("provider_nick_name")
    if nick is not None:
        refs.provider(mode, nick)
    group = body.get("provider_group_nickname")
    if group is not None:
        refs.provider_group(mode, group)


def ttl(value: Any) -> tuple[float | None, float | None]:
    """(relative minutes, absolute epoch seconds) from ``{"ttl_type", "value"}`` [V-seed 003]."""
    if value is None:
        return None, None
    kind = value.get("ttl_type", "relative")
    amount = value.get("value")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise invalid("ttl.value", "must be a positive integer")
    if kind == "relative":
        return float(amount), None
    if kind == "absolute":
        try:
            until = datetime.strptime(str(amount), "%Y%m%d%H%M").replace(tzinfo=UTC)
        except ValueError:
            raise invalid("ttl.value", f"an absolute ttl is yyyyMMddHHmm, got {amount}") from None
        return None, until.timestamp()
    raise invalid("ttl.ttl_type", f'must be "relative" or "absolute", got {kind!r}')
