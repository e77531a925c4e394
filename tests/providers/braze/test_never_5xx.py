"""Property: no Braze-shaped body, header or path makes a 5xx or a non-JSON answer."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from providers.test_never_5xx import Live
from support.braze import API_CAMPAIGN, CANVAS, MESSAGE_OBJECTS, SEGMENT_ALL, TRIGGERED, VARIATION

scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
           | st.text(max_size=12))
anything = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c,
                                                                                        max_size=3), max_leaves=10)
ids = st.sampled_from([API_CAMPAIGN, TRIGGERED, CANVAS, SEGMENT_ALL, "nope", "", *VARIATION.values()]) | anything
times = st.sampled_from(["2030-01-01T00:00:00Z", "2001-01-01T00:00:00", "2019-02-15 00:00:00 -0500", "soon", ""])
alias = st.fixed_dictionaries({}, optional={"alias_name": st.text(max_size=4) | anything,
                                            "alias_label": st.text(max_size=4)})
recipient = st.fixed_dictionaries({}, optional={
    "external_user_id": st.text(max_size=5) | st.integers(-(2**63), 2**63 - 1), "user_alias": alias | anything,
    "braze_id": st.text(max_size=5), "email": st.emails() | anything, "prioritization": anything,
    "trigger_properties": anything, "context": anything, "send_to_existing_only": st.booleans() | anything,
    "attributes": anything})
message_object = st.sampled_from(list(MESSAGE_OBJECTS)).flatmap(
    lambda key: st.builds(lambda extra, drop: {key: {**{k: v for k, v in MESSAGE_OBJECTS[key].items() if k != drop},
                                                     **extra}},
                          st.dictionaries(st.sampled_from(["extra", "message_variation_id", "alert", "expire_at",
                                                           "time_to_live", "message", "send_to_sync", "from"]),
                                          anything | ids | times, max_size=2),
                          st.sampled_from(["", *{k for v in MESSAGE_OBJECTS.values() for k in v}]))) | anything
connected = st.recursive(
    st.builds(lambda name, comparison, value: {"custom_attribute": {"custom_attribute_name": name,
                                                                    "comparison": comparison, "value": value}},
              st.text(max_size=4) | anything, st.sampled_from(["equals", "after", "greater_than", "matches_regex",
                                                               "exists", "nope"]) | anything, anything | times)
    | st.builds(lambda c, v: {"push_subscription_status": {"comparison": c, "value": v}},
                st.sampled_from(["is", "is_not", "x"]), st.sampled_from(["opted_in", "subscribed", "x"]) | anything),
    lambda c: st.builds(lambda k, v: {k: v}, st.sampled_from(["AND", "OR"]), st.lists(c, max_size=3)), max_leaves=5)
track_object = st.fixed_dictionaries({}, optional={
    "external_id": st.text(max_size=6) | anything, "user_alias": alias | anything, "braze_id": anything,
    "email": st.emails() | anything, "name": anything, "time": times | anything, "product_id": anything,
    "currency": st.sampled_from(["USD", "usd", "dollars"]) | anything, "price": anything, "quantity": anything,
    "properties": anything, "_update_existing_only": anything, "push_subscribe": anything, "custom": anything})
body = st.fixed_dictionaries({}, optional={
    "broadcast": st.booleans() | anything, "external_user_ids": st.lists(ids, max_size=3) | anything,
    "user_aliases": st.lists(alias, max_size=2) | anything, "segment_id": ids, "audience": connected | anything,
    "campaign_id": ids, "canvas_id": ids, "send_id": st.text(max_size=5) | anything, "messages": message_object,
    "recipients": st.lists(recipient, max_size=3) | anything, "trigger_properties": anything,
    "schedule": st.fixed_dictionaries({}, optional={"time": times | anything, "in_local_time": anything,
                                                    "at_optimal_time": st.booleans()}) | anything,
    "schedule_id": anything, "recipient": recipient | anything, "external_send_id": anything,
    "attributes": st.lists(track_object, max_size=3) | anything, "events": st.lists(track_object, max_size=2),
    "purchases": st.lists(track_object, max_size=2), "external_ids": st.lists(ids, max_size=3) | anything,
    "aliases_to_identify": anything, "fields_to_export": anything, "api_key": anything})
queries = st.dictionaries(st.sampled_from(["campaign_id", "canvas_id", "segment_id", "length", "ending_at", "page",
                                           "send_id", "end_time", "sort_direction", "include_archived",
                                           "last_edit.time[gt]", "api_key"]),
                          st.text(max_size=8) | st.sampled_from([API_CAMPAIGN, CANVAS, SEGMENT_ALL, "1", "101"]),
                          max_size=4)
headers = st.fixed_dictionaries({}, optional={
    "Authorization": st.sampled_from(["Bearer k", "Bearer ", "Basic x", "Bearer \"k\""]) | st.text(
        st.characters(min_codepoint=33, max_codepoint=126), max_size=12),
    "Content-Type": st.sampled_from(["application/json", "text/plain", "application/json; charset=utf-8"])})


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    server = Live()
    server.routes = [(m, p) for m, p in server.routes if p.startswith(("/messages", "/campaigns", "/canvas", "/users",
                                                                       "/sends", "/segments", "/transactional"))]
    yield server
    server.close()


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_no_braze_body_header_or_query_gets_a_5xx_or_non_json(live: Live, data: st.DataObject) -> None:
    method, path = data.draw(st.sampled_from(live.routes))
    path = path.replace("{campaign_id}", data.draw(st.sampled_from([API_CAMPAIGN, "x", "b1c2d3e4-0005-4f00-8000-"
                                                                                       "000000000005"])))
    if data.draw(st.booleans()):
        path += "/"
    sent = {"Content-Type": "application/json", "Authorization": "Bearer k", **data.draw(headers)}
    query = data.draw(queries)
    raw = orjson.dumps(data.draw(body), option=orjson.OPT_NON_STR_KEYS) if data.draw(st.integers(0, 9)) else \
        data.draw(st.binary(max_size=32))
    from urllib.parse import urlencode

    status, content_type, answer = live.call(method, path + ("?" + urlencode(query) if query else ""), sent, raw)
    assert status < 500, (method, path, query, sent, raw, answer)
    assert content_type == "application/json", (method, path, content_type)
    parsed = orjson.loads(answer)
    assert isinstance(parsed, dict) and ("message" in parsed or "error" in parsed or "dispatch_id" in parsed)
