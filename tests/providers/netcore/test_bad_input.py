"""Property: valid Netcore requests with any part mutated (wrong types, missing keys, odd values) never get a
5xx or a non-JSON answer, whatever the generation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from providers.test_never_5xx import Live
from support.netcore import FORM, GEN1, V4, email_campaign

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["151", "9", "416", "now", "active", "draft", "apn", "email"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10)

EVENT = {"activity_name": "a", "asset_id": "x", "timestamp": "2021-12-29T12:06:28Z", "identity": "u@example.com",
         "activity_params": {"p": 1}}
REQUESTS: list[tuple[str, dict[str, str], Any]] = [
    ("/campaign/create", GEN1, {"type": "apn", "app_ids": ["a"], "name": "n", "template_id": 2, "tags": ["Sales"]}),
    ("/campaign/execute", GEN1, {"type": "apn", "campaign_id": 10001, "data_source": "list", "list_id": 151,
                                 "frequency_capping": True, "personalization": {"offer": "x"}}),
    ("/v3/campaign/create", {}, {"apikey": "K", "clientid": 1, "channel": "apn", "campaign_status": "send now",
                                 "template_id": 2, "contact_details": {"list_ids": [151], "segment_ids": [9]},
                                 "campaign_schedule_date": "2022-12-14T12:04:43Z"}),
    ("/v4/campaign/create", V4, {"campaign_details": [email_campaign("n", campaign_state="active")]}),
    ("/v4/campaign/update", V4, {"campaign_details": [{"channel": "email", "campaign_id": 416,
                                                       "campaign_state": "active", "schedule_time": "now",
                                                       "audience_details": {"include_list": {"list_ids": [151]}}}]}),
    ("/v4/campaign/get", V4, {"channel": ["email"], "campaign_ids": [416]}),
    ("/v4/campaign/list", V4, {"channel": ["email"], "page_no": 1, "page_size": 5, "campaign_states": ["draft"]}),
    ("/v4/campaign/test", V4, {"test_campaign_details": [{"channel": "email", "campaign_id": 1231,
                                                          "test_user_details": {"email_ids": ["a@b.c"]}}]}),
    ("/v4/campaign/delete", V4, {"campaign_details": [{"channel": "email", "campaign_id": 828}]}),
    ("/v1/activity/upload", {"Authorization": "Bearer K"}, [EVENT]),
    ("/apiv2?activity=upload_contact_and_publish&apikey=K", {},
     {"campaign_name": "c", "subject_line": "s", "sender_email_id": "a@b.c", "schedule_date": "now",
      "templateid": "17", "target_lists": "151,160", "suppression_list": "153", "tags": "a,b"}),
]


def mutate(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    choice = data.draw(st.integers(0, 4 if depth < 4 else 1))
    if choice == 0:
        return value
    if choice == 1:
        return data.draw(json_values)
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value)))
        if choice == 2:
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: mutate(value[key], data, depth + 1)}
    if isinstance(value, list) and value:
        index = data.draw(st.integers(0, len(value) - 1))
        return [mutate(v, data, depth + 1) if i == index else v for i, v in enumerate(value)]
    return data.draw(json_values)


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    server = Live()
    yield server
    server.close()


def answered_json(result: tuple[int, str, bytes], what: Any) -> None:
    status, content_type, raw = result
    assert status < 500, (what, raw)
    assert content_type.startswith("application/json"), (what, content_type)
    orjson.loads(raw)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_campaign_requests_never_get_a_5xx(live: Live, data: st.DataObject) -> None:
    path, headers, body = data.draw(st.sampled_from(REQUESTS))
    if path == "/v3/campaign/create":
        body = {**body, "apikey": "K"} if data.draw(st.booleans()) else body
    mutated = mutate(body, data)
    raw = json.dumps(mutated).encode() if data.draw(st.integers(0, 9)) else \
        data.draw(st.binary(max_size=40))
    prefix = data.draw(st.sampled_from(["", "/netcore"]))
    answered_json(live.call("POST", prefix + path, {**headers, "Content-Type": "application/json"}, raw),
                  (path, mutated))


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(activity=st.sampled_from(["add", "addsync", "update", "delete", "bulkupload", "upload_contact_and_publish",
                                  "x", ""]),
       data_value=st.text(max_size=30) | json_values.map(json.dumps),
       listid=st.text(max_size=6), method=st.sampled_from(["GET", "POST"]), in_query=st.booleans())
def test_any_apiv2_call_answers_json_below_500(live: Live, activity: str, data_value: str, listid: str,
                                                       method: str, in_query: bool) -> None:
    params = {"type": "contact", "activity": activity, "apikey": "K"}
    form = {"data": data_value, "listid": listid}
    if in_query:
        params, form = {**params, **form}, {}
    result = live.call(method, f"/apiv2?{urlencode(params)}", FORM, urlencode(form).encode())
    answered_json(result, (activity, data_value, listid))


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_netcore_audience_estimate_answers_json_below_500(live: Live, data: st.DataObject) -> None:
    valid = data.draw(st.sampled_from([
        {"data_source": "list", "list_id": 151, "type": "apn"},
        {"include_list": {"list_ids": ["151"], "seg_ids": ["9"]}, "exclude_list": {"list_ids": [153]}, "limit": 5},
        {"is_all_user_campaign": False, "list_ids": [151], "segment_ids": [40], "suppression_list_ids": [153],
         "channel": "email"}]))
    body = {"vendor": "netcore", "audience": mutate(valid, data), "tenant": "K"}
    if data.draw(st.booleans()):
        body["channel"] = data.draw(st.sampled_from(["push", "email", "apn", "sms"]))
    result = live.call("POST", "/_sandbox/audience/estimate", {"Content-Type": "application/json"},
                       json.dumps(body).encode())
    answered_json(result, body)
