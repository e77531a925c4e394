"""Every field rule of ``POST /1/targets/create.json`` (seed 003, spec §6.1, §6.7), one row each.

The rules beyond JSON types run in ``create_checks.check``; type rules come from the schema and are tested
over HTTP at the end (golden pairs cover one HTTP answer per documented response).
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import pytest
from support.http import CLEVERTAP_HEADERS

from sandbox.providers.clevertap import create_checks, errors
from sandbox.providers.clevertap.account import Account, Segment
from sandbox.providers.clevertap.dashboard_data import DashboardData, References

ACCOUNT = Account(notification_channels=frozenset({"engagement"}), providers={"sms": frozenset({"Twilio"})},
                  provider_groups={"sms": frozenset({"Group A"})}, custom_control_groups={"Holdout": 10.0},
                  segments={"101": Segment("101", "s", {})})


def strict_refs() -> References:
    """The account above in strict mode, for a stand-in of the call (what ``Dashboard.resolve`` reads of it);
    learn mode is tested over HTTP in test_learn_strict.py."""
    data = DashboardData()
    data.load(ACCOUNT, {})
    call: Any = SimpleNamespace(tenant="T", hint=None, notes=[], provider=SimpleNamespace(strict=True))
    call.note = call.notes.append
    return References(data, call)


BASE = {"name": "n", "when": "now", "where": {}, "content": {"title": "t", "body": "b"}}
PUSH_ANDROID = {"devices": ["android"], "content": {"title": "t", "body": "b",
                                                    "platform_specific": {"android": {"wzrk_cid": "engagement"}}}}


def body(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


DROP = object()
EMPTY = errors.CONTENT_FIELD_EMPTY.format
INVALID = errors.FIELD_INVALID.format

REJECTED = [
    ("name missing", body(name=DROP), errors.NAME_EMPTY),
    ("name empty", body(name=""), errors.NAME_EMPTY),
    ("name blank", body(name="  "), errors.NAME_EMPTY),
    ("when missing", body(when=DROP), errors.WHEN_EMPTY),
    ("when empty", body(when=""), errors.WHEN_EMPTY),
    ("when not a date", body(when="tomorrow"),
     INVALID(field="when", reason="expected \"now\" or \"YYYYMMDD HH:MM\", got 'tomorrow'")),
    ("when object of another type", body(when={"type": "sometime"}), None),
    ("push title missing", body(content={"body": "b"}), EMPTY(field="title")),
    ("push body missing", body(content={"title": "t"}), EMPTY(field="body")),
    ("content missing", body(content=DROP), EMPTY(field="title")),
    ("webpush title missing", body(target_mode="webpush", content={"body": "b"}), EMPTY(field="title")),
    ("email subject missing", body(target_mode="email", content={"body": "b"}), EMPTY(field="subject")),
    ("email body missing", body(target_mode="email", content={"subject": "s"}), EMPTY(field="body")),
    ("sms body missing", body(target_mode="sms", content={}), EMPTY(field="body")),
    ("sms with target_mode removed asks for a title", body(content={"body": "b"}), EMPTY(field="title")),
    ("whatsapp template missing", body(target_mode="whatsapp", content={"replacements": {}}),
     EMPTY(field="template_name")),
    ("whatsapp attachment type", body(target_mode="whatsapp", content={"template_name": "t", "attachments": {
        "type": "Sticker", "value": "x"}}), None),
    ("whatsapp attachment value", body(target_mode="whatsapp", content={"template_name": "t", "attachments": {
        "type": "Document"}}), EMPTY(field="attachments.value")),
    ("whatsapp header type", body(target_mode="whatsapp", content={"template_name": "t", "header": {"type": "gif"}}),
     None),
    ("whatsapp media header without media", body(target_mode="whatsapp", content={
        "template_name": "t", "header": {"type": "image"}}), EMPTY(field="header.media")),
    ("whatsapp text header without replacements", body(target_mode="whatsapp", content={
        "template_name": "t", "header": {"type": "text"}}), None),
    ("whatsapp body replacements not an array", body(target_mode="whatsapp", content={
        "template_name": "t", "body": {"replacements": "x"}}), None),
    ("whatsapp buttons", body(target_mode="whatsapp", content={"template_name": "t", "buttons": [{"replacements": 1}]}),
     None),
    ("whatsapp replacements not an object", body(target_mode="whatsapp", content={
        "template_name": "t", "replacements": ["a"]}), None),
    ("webhook endpoint missing", body(target_mode="webhook", content=DROP), errors.FIELD_EMPTY.format(
        field="webhook_endpoint_name")),
    ("webhook field unknown", body(target_mode="webhook", webhook_endpoint_name="e", webhook_fields=["events"]),
     None),
    ("inbox template_type missing", body(target_mode="notificationinbox", content=[{"media": {}}]),
     errors.FIELD_EMPTY.format(field="template_type")),
    ("inbox template_type unknown", body(target_mode="notificationinbox", template_type="banner",
                                         content=[{}]), None),
    ("inbox content not an array", body(target_mode="notificationinbox", template_type="simple"),
     errors.FIELD_EMPTY.format(field="content")),
    ("inbox carousel without media", body(target_mode="notificationinbox", template_type="carousel",
                                          content=[{"title": {"text": "t"}, "message": {"text": "m"}}]),
     EMPTY(field="media")),
    ("inbox simple without title", body(target_mode="notificationinbox", template_type="simple",
                                        content=[{"message": {"text": "m"}}]), EMPTY(field="title.text")),
    ("inbox orientation", body(target_mode="notificationinbox", template_type="carousel-image", orientation="x",
                               content=[{"media": {"url": "u"}}]), None),
    ("where missing", body(where=DROP), errors.WHERE_PARSE_FAILED),
    ("where not an object", body(where="all"), errors.WHERE_PARSE_FAILED),
    ("where unparseable", body(where={"event_name": 3}), errors.WHERE_PARSE_FAILED),
    ("from after to", body(where={"event_name": "E", "from": 20250102, "to": 20250101}),
     errors.WHERE_FROM_AFTER_TO),
    ("segment unknown", body(where=DROP, segment=7), errors.SEGMENT_UNKNOWN.format(id=7)),
    ("android without channel", body(devices=["android", "ios"]), errors.ANDROID_CHANNEL_REQUIRED[1]),
    ("android with an empty channel", body(devices=["android"], content={
        "title": "t", "body": "b", "platform_specific": {"android": {"wzrk_cid": ""}}}),
     errors.ANDROID_CHANNEL_REQUIRED[1]),
    ("android channel unknown", body(devices=["android"], content={
        "title": "t", "body": "b", "platform_specific": {"android": {"wzrk_cid": "promo"}}}),
     errors.ANDROID_CHANNEL_INVALID),
    ("custom control group unknown", body(control_group={"type": "custom", "name": "CG"}),
     errors.CONTROL_GROUP_UNKNOWN.format(name="CG")),
    ("custom control group without name", body(control_group={"type": "custom"}),
     errors.FIELD_EMPTY.format(field="control_group.name")),
    ("campaign control group percentage", body(control_group={"type": "campaign", "percentage": 100}), None),
    ("control group type", body(control_group={"type": "global"}), None),
    ("sms provider unknown", body(target_mode="sms", content={"body": "b"}, provider_nick_name="Nexmo"),
     errors.PROVIDER_NICK_NAME_INVALID),
    ("sms provider group unknown", body(target_mode="sms", content={"body": "b"}, provider_group_nickname="G"),
     errors.PROVIDER_GROUP_INVALID),
    ("ttl value not positive", body(ttl={"value": 0}), None),
    ("ttl absolute not a date", body(ttl={"ttl_type": "absolute", "value": 2880}), None),
    ("ttl type unknown", body(ttl={"ttl_type": "sliding", "value": 10}), None),
]


@pytest.mark.parametrize(("payload", "text"), [row[1:] for row in REJECTED], ids=[row[0] for row in REJECTED])
def test_rejected(payload: dict[str, Any], text: str | None) -> None:
    with pytest.raises(errors.CleverTapFail) as caught:
        create_checks.check(payload, strict_refs())
    if text is None:  # a field error in the generic wording: it names the field
        assert caught.value.message.startswith("Field ") and " is invalid: " in caught.value.message
    else:
        assert caught.value.message == text
    assert caught.value.status == 400


ACCEPTED = [
    ("minimal push", body(), {"target_mode": "push", "devices": ("android", "ios"), "when": None}),
    ("scheduled", body(when="20260102 10:30"), {"when": 1767349800.0}),
    ("scheduled as an object [3P]", body(when={"type": "later", "delivery_date_time": ["20260102 10:30"]}),
     {"when": 1767349800.0}),
    ("android with a known channel", body(**PUSH_ANDROID), {"devices": ("android",)}),
    ("channel given top-level", body(devices=["android"], wzrk_cid="engagement"), {}),
    ("no devices: no channel needed", body(devices=DROP), {}),
    ("windows is accepted", body(devices=["ios", "windows"]), {"devices": ("ios", "windows")}),
    ("email", body(target_mode="email", content={"subject": "s", "body": "<p>b</p>"}), {"target_mode": "email"}),
    ("sms with a known provider", body(target_mode="sms", content={"body": "b"}, provider_nick_name="Twilio",
                                       provider_group_nickname="Group A"), {}),
    ("push ignores provider lists", body(provider_nick_name="anything"), {}),
    ("segment instead of where", body(where=DROP, segment=101), {"tree": {"member_of": "101"}}),
    ("segment 'all' of the official libraries", body(where=DROP, segment="all"), {"tree": {"everyone": True}}),
    ("custom control group", body(control_group={"type": "custom", "name": "Holdout"}),
     {"control_percentage": 10.0}),
    ("campaign control group", body(control_group={"type": "campaign", "percentage": 5}), {"control_percentage": 5.0}),
    ("relative ttl", body(ttl={"ttl_type": "relative", "value": 2880}), {"ttl_minutes": 2880.0}),
    ("ttl type defaults to relative", body(ttl={"value": 60}), {"ttl_minutes": 60.0}),
    ("absolute ttl", body(ttl={"ttl_type": "absolute", "value": 202207200000}), {"ttl_until": 1658275200.0}),
    ("webhook", body(target_mode="webhook", content=DROP, webhook_endpoint_name="e",
                     webhook_fields=["profile-attributes", "tokens", "identities"]), {"target_mode": "webhook"}),
    ("inbox carousel-image items need only media", body(target_mode="notificationinbox", template_type="carousel-image",
                                                        content=[{"media": {"url": "u"}}], orientation="p"), {}),
    ("whatsapp interactive", body(target_mode="whatsapp", content={
        "template_name": "t", "header": {"type": "text", "replacements": ["a"]}, "body": {"replacements": ["b"]},
        "buttons": [{"replacements": ["c"]}]}), {}),
    ("unknown keys", body(**{"": "x", "labels": ["a"], "draft": True, "from": 1}), {}),
]


@pytest.mark.parametrize(("payload", "expected"), [row[1:] for row in ACCEPTED], ids=[row[0] for row in ACCEPTED])
def test_accepted(payload: dict[str, Any], expected: dict[str, Any]) -> None:
    request = create_checks.check(payload, strict_refs())
    assert {key: getattr(request, key) for key in expected} == expected


def fail(text: str, code: int = 78) -> dict[str, Any]:
    return {"status": "fail", "error": text, "code": code}


TYPES = [
    ("name", 5, "Field name is invalid: 5 is not of type 'string'"),
    ("devices", "ios", "Field devices is invalid: 'ios' is not of type 'array'"),
    ("estimate_only", "yes", "Field estimate_only is invalid: 'yes' is not of type 'boolean'"),
    ("skip_estimate", 1, "Field skip_estimate is invalid: 1 is not of type 'boolean'"),
    ("async_estimate", "true", "Field async_estimate is invalid: 'true' is not of type 'boolean'"),
    ("send_to_all_devices", None, "Field send_to_all_devices is invalid: None is not of type 'boolean'"),
    ("respect_throttle", 0, "Field respect_throttle is invalid: 0 is not of type 'boolean'"),
    ("system_control_group_include", "no",
     "Field system_control_group_include is invalid: 'no' is not of type 'boolean'"),
    ("control_group", "custom", "Field control_group is invalid: 'custom' is not of type 'object'"),
    ("ttl", 2880, "Field ttl is invalid: 2880 is not of type 'object'"),
    ("segment", "vip", "Field segment is invalid: 'vip' is not valid under any of the given schemas"),
    ("wzrk_bi", "big icon", "Field wzrk_bi is invalid: 'big icon' is not one of ['app icon', 'notification icon']"),
    ("provider_nick_name", 3, "Field provider_nick_name is invalid: 3 is not of type 'string'"),
]


@pytest.mark.parametrize(("key", "value", "text"), TYPES, ids=[row[0] for row in TYPES])
async def test_types_over_http(api, key: str, value: Any, text: str) -> None:
    payload = {**BASE, "estimate_only": True, key: value}
    status, answer, _ = await api.call("POST", "/1/targets/create.json", json=payload, headers=CLEVERTAP_HEADERS)
    assert (status, answer) == (400, fail(text))
