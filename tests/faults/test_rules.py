"""``/_sandbox/faults``: adding, matching, counting and removing rules; every injected fault is journaled."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from support.braze import HEADERS as BRAZE
from support.http import CLEVERTAP_HEADERS, DEFAULT_SETTINGS, Api

from sandbox.app import create_app

SEND = {"messages": {"apple_push": {"alert": "hello"}}, "external_user_ids": ["u1"]}
PUSH = {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hi", "body": "There"}}


async def send(api: Api, key: str = "test-key", body: Any = SEND) -> tuple[int, Any]:
    status, answer, _ = await api.call("POST", "/messages/send", json=body,
                                       headers={**BRAZE, "Authorization": f"Bearer {key}"})
    return status, answer


async def add(api: Api, rule: dict[str, Any], **params: str) -> dict[str, Any]:
    status, body, _ = await api.call("POST", "/_sandbox/faults", json=rule, params=params)
    assert status == 201, body
    return body


async def test_the_smallest_rule_answers_two_503s_then_lets_the_third_through(api: Api) -> None:
    rule = await add(api, {"vendor": "braze", "operation": "messages_send", "status": 503, "times": 2})
    assert rule["id"] and rule["hits"] == 0
    answers = [await send(api) for _ in range(3)]
    assert answers[0] == answers[1] == (503, {"message": "Internal Server Error"})
    assert answers[2][0] == 201 and answers[2][1]["message"] == "success"
    [listed] = (await api.control("GET", "/faults"))["faults"]
    assert (listed["id"], listed["matched"], listed["hits"]) == (rule["id"], 3, 2)
    entries = await api.requests(operation="messages_send")
    assert [e["fault"] for e in entries] == [{"rule": rule["id"], "effect": "status"}] * 2 + [None]
    assert [e["status"] for e in entries] == [503, 503, 201]
    delivered = (await api.control("GET", "/deliveries", params={"vendor": "braze"}))["deliveries"]
    assert [d["user"] for d in delivered] == ["u1"]  # the faulted sends were not processed


async def test_an_injected_503_is_told_apart_from_a_real_rejection(api: Api) -> None:
    await add(api, {"vendor": "braze", "status": 400, "times": 1})
    status, _ = await send(api)
    real, _ = await send(api, body={"messages": {}})
    assert status == real == 400
    entries = await api.requests(vendor="braze")
    assert entries[0]["fault"]["effect"] == "status" and entries[1]["fault"] is None


async def test_rules_match_tenant_method_path_and_body_fields(api: Api) -> None:
    await add(api, {"vendor": "braze", "effect": "server_error"}, tenant="other-key")
    await add(api, {"path": "/1/send/push.json", "method": "post", "body": {"to.Identity": "Target"},
                    "effect": "unavailable"})
    assert (await send(api))[0] == 201
    assert (await send(api, key="other-key"))[0] == 500
    target = {**PUSH, "to": {"Identity": ["Target"]}}
    status, body, _ = await api.call("POST", "/1/send/push.json", json=target, headers=CLEVERTAP_HEADERS)
    assert (status, body) == (503, {"status": "fail", "error": "Unexpected error, please try again", "code": 89})
    status, _, _ = await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS)
    assert status == 200
    status, _, _ = await api.call("POST", "/clevertap/1/send/push.json", json=target, headers=CLEVERTAP_HEADERS)
    assert status == 503  # the path matches under the vendor prefix too


async def test_after_skips_the_first_matches(api: Api) -> None:
    await add(api, {"vendor": "braze", "effect": "rate_limited", "after": 2, "times": 1})
    assert [(await send(api))[0] for _ in range(4)] == [201, 201, 429, 201]


async def test_the_first_matching_rule_wins(api: Api) -> None:
    first = await add(api, {"vendor": "braze", "status": 502, "times": 1})
    await add(api, {"vendor": "braze", "status": 504})
    assert [(await send(api))[0] for _ in range(2)] == [502, 504]
    assert (await api.control("GET", f"/faults/{first['id']}"))["hits"] == 1


async def test_get_delete_one_delete_all_and_reset(api: Api) -> None:
    one = await add(api, {"vendor": "braze", "status": 500}, tenant="t1")
    await add(api, {"vendor": "braze", "status": 500}, tenant="t2")
    await add(api, {"vendor": "clevertap", "status": 500})
    assert [r["id"] for r in (await api.control("GET", "/faults", params={"tenant": "t1"}))["faults"]] \
        == [one["id"], "f3"]
    assert (await api.control("DELETE", f"/faults/{one['id']}"))["deleted"] == 1
    status, body, _ = await api.call("DELETE", f"/_sandbox/faults/{one['id']}")
    assert status == 404 and body["error"]["kind"] == "not_found"
    await api.control("POST", "/reset", params={"tenant": "t2"})
    assert [r.get("tenant") for r in (await api.control("GET", "/faults"))["faults"]] == [None]
    assert (await api.control("DELETE", "/faults"))["deleted"] == 1
    assert (await api.control("GET", "/faults"))["total"] == 0


@pytest.mark.parametrize(("rule", "message"), [
    ({"vendor": "braze"}, "a rule needs an effect"),
    ({"vendor": "braze", "status": 503, "time": 2}, "unknown rule field(s) time"),
    ({"vendor": "braze", "effect": "explode"}, "unknown effect 'explode'"),
    ({"vendor": "acme", "status": 503}, "unknown vendor 'acme'"),
    ({"vendor": "braze", "operation": "send_push", "status": 503}, "unknown operation 'send_push' of braze"),
    ({"status": 99}, "status must be an integer from 100 to 599"),
    ({"status": 503, "times": 0}, "times must be an integer from 1 up"),
    ({"status": 503, "probability": 1.5}, "probability must be a number from 0 to 1"),
    ({"delay_ms": {"distribution": "pareto"}}, "delay_ms is a number of milliseconds"),
    ({"effect": "empty", "response_body": {}}, "effect empty replaces the body"),
    ([1], "a fault rule is a JSON object"),
])
async def test_a_bad_rule_is_a_400_naming_what_is_wrong(api: Api, rule: Any, message: str) -> None:
    status, body, _ = await api.call("POST", "/_sandbox/faults", json=rule)
    assert status == 400 and body["error"]["message"].startswith(message), body
    assert (await api.control("GET", "/faults"))["total"] == 0


async def test_the_rule_tenant_must_agree_with_the_query(api: Api) -> None:
    status, body, _ = await api.call("POST", "/_sandbox/faults", json={"tenant": "a", "status": 503},
                                     params={"tenant": "b"})
    assert status == 400 and "tenant" in body["error"]["message"]


async def probability_run(aiohttp_client: Any, seed: int) -> list[tuple[int, Any]]:
    api = Api(await aiohttp_client(create_app(dataclasses.replace(DEFAULT_SETTINGS, seed=seed))))
    await add(api, {"vendor": "braze", "probability": 0.5, "status": 503,
                    "delay_ms": {"distribution": "uniform", "lower": 0, "upper": 2}})
    await add(api, {"vendor": "clevertap", "delay_ms": {"distribution": "lognormal", "median": 1, "sigma": 0.5}})
    for _ in range(24):
        await send(api)
    await api.call("POST", "/1/send/push.json", json=PUSH, headers=CLEVERTAP_HEADERS)
    return [(e["status"], e["fault"]) for e in await api.requests()]


async def test_probabilities_and_delays_repeat_with_the_same_seed(aiohttp_client: Any) -> None:
    first = await probability_run(aiohttp_client, 7)
    again = await probability_run(aiohttp_client, 7)
    other = await probability_run(aiohttp_client, 8)
    assert first == again
    hits = [status for status, _ in first[:24]]
    assert 0 < hits.count(503) < 24  # about half
    assert [s for s, _ in other[:24]] != hits
    assert all(0 <= f["delay_ms"] <= 2 for s, f in first[:24] if s == 503)
    assert first[24][1]["effect"] == "delay" and first[24][1]["delay_ms"] > 0
