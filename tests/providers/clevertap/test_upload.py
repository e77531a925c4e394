"""``/1/upload`` per-record codes with the recorded strings, writes into the population, profile.json, counts."""

from __future__ import annotations

from typing import Any

import pytest
from support.http import CLEVERTAP_HEADERS

UPLOAD = "/1/upload"


async def upload(api, records: list[Any], **params: str) -> tuple[int, Any]:
    status, answer, _ = await api.call("POST", UPLOAD, json={"d": records}, headers=CLEVERTAP_HEADERS,
                                       params=params or None)
    return status, answer


def profile(**data: Any) -> dict[str, Any]:
    return {"identity": "u-1", "type": "profile", "profileData": data}


def event(**fields: Any) -> dict[str, Any]:
    return {"identity": "u-1", "type": "event", "evtName": "Searched", "evtData": {}, **fields}


REJECTED = [
    ("not an object", "x", 512, "Invalid event structure. Skipped record number : 1", None),
    ("no identity", {"type": "event", "evtName": "E"}, 523, "Missing identity. Skipped record number : 1", None),
    ("unknown type", {"identity": "u", "type": "user"}, 524,
     "Data neither event nor profile. Skipped record number : 1",
     None),
    ("ts 0", event(ts=0), 525, "Timestamp should be present in the Unix Epoch format. Skipped record number : 1",
     None),
    ("ts in milliseconds", event(ts=1521645200000), 525,
     "Timestamp should be present in the Unix Epoch format. Skipped record number : 1", None),
    ("ts as text", event(ts="1521645200"), 525,
     "Timestamp should be present in the Unix Epoch format. Skipped record number : 1", None),
    ("objectId empty", {**event(), "objectId": ""}, 526, "objectId is invalid. Skipped record number : 1", None),
    ("event name missing", {"identity": "u", "type": "event", "evtData": {}}, 509,
     "Event name is mandatory. Skipped record number : 1", None),
    ("event data not an object", event(evtData=[1]), 512, "Invalid event structure. Skipped record number : 1", None),
    ("restricted system event", event(evtName="Notification Viewed"), 513,
     "Raised a restricted system event. Skipped record number : 1", None),
    ("discarded event (account.json)", event(evtName="Debug Event"), 528,
     "Discarded event is raised. Skipped record number : 1", None),
    ("too many event properties", event(evtData={f"p{i}": i for i in range(257)}), 522,
     "Event properties limit exceeded. Skipped record number : 1", None),
    ("email 1234", profile(Email="1234"), 515,
     "Profile data is incorrect. Email is not valid.Skipped record number : 1",
     None),
    ("email $$$$$", profile(Email="$$$$$"), 515,
     "Profile data is incorrect. Email is not valid.Skipped record number : 1", None),
    ("phone +44+441234", profile(Phone="+44+441234"), 516,
     "Profile data is incorrect. Phone number is not valid.Skipped record number : 1", None),
    ("phone 223", profile(Phone="223"), 516,
     "Profile data is incorrect. Phone number is not valid.Skipped record number : 1", None),
    ("gender", profile(Gender="X"), 514,
     "Profile data is incorrect. Gender needs to be M/F/O.Skipped record number : 1",
     None),
    ("employed", profile(Phone="+35922333232", Employed="maybe"), 517,
     "Profile data is incorrect. Employed needs to be Y/N.Skipped record number : 1",
     profile(Phone=35922333232, Employed="maybe")),
    ("education (double dot)", profile(Education="PhD"), 518,
     "Profile data is incorrect. Education needs to be School/College/Graduate..Skipped record number : 1", None),
    ("married", profile(Married="yes"), 519,
     "Profile data is incorrect. Married needs to be Y/N.Skipped record number : 1",
     None),
    ("age", {**profile(Age=-3), "identity": 13}, 520,
     "Profile data is incorrect. Age is invalid.Skipped record number : 1",
     {**profile(Age=-3), "identity": "13"}),
    ("profileData missing", {"identity": "u", "type": "profile"}, 524,
     "Data neither event nor profile. Skipped record number : 1", None),
    ("token without objectId", {"identity": "u", "type": "token", "tokenData": {"id": "t", "type": "fcm"}}, 530,
     "Invalid 'objectId'. Skipped record number : 1", None),
    ("token data missing", {"objectId": "__a", "type": "token"}, 531, "Invalid token data. Skipped record number : 1",
     None),
    ("token id missing", {"objectId": "__a", "type": "token", "tokenData": {"type": "fcm"}}, 532,
     "Token 'id' is not present. Skipped record number : 1", None),
    ("token type missing", {"objectId": "__a", "type": "token", "tokenData": {"id": "t"}}, 533,
     "Token 'type' is not present. Skipped record number : 1", None),
    ("token type unknown", {"objectId": "__a", "type": "token", "tokenData": {"id": "t", "type": "pager"}}, 534,
     "Token 'type' is not valid for 'objectId'. Skipped record number : 1", None),
    ("token id empty", {"objectId": "__a", "type": "token", "tokenData": {"id": "", "type": "fcm"}}, 535,
     "Invalid token data. Skipped record number : 1", None),
]


@pytest.mark.parametrize(("record", "code", "text", "echo"), [row[1:] for row in REJECTED],
                         ids=[row[0] for row in REJECTED])
async def test_record_codes(api, record: Any, code: int, text: str, echo: Any) -> None:
    status, answer = await upload(api, [record])
    assert (status, answer) == (200, {"status": "fail", "processed": 0, "unprocessed": [
        {"status": "fail", "code": code, "error": text, "record": record if echo is None else echo}]})


async def test_partial_numbers_records_from_one(api) -> None:
    good = event(evtName="Product Viewed", evtData={"Product Name": "Cookbook"})
    status, answer = await upload(api, [good, profile(Email="1234"), good])
    assert status == 200 and answer["status"] == "partial" and answer["processed"] == 2
    assert answer["unprocessed"][0]["error"].endswith("Skipped record number : 2")


async def test_lenient_records_are_accepted(api) -> None:
    records = [event(), profile(email="not-an-email", Name="Ann", Age="31"), {**event(), "objectId": "__x"}]
    assert await upload(api, records) == (200, {"status": "success", "processed": 3, "unprocessed": []})


async def test_at_most_1000_records(api) -> None:
    assert (await upload(api, [event()] * 1000))[1]["processed"] == 1000
    assert await upload(api, [event()] * 1001) == (400, {
        "status": "fail", "error": "Field d is invalid: at most 1000 records per request", "code": 78})


async def read_profile(api, **query: str) -> tuple[int, Any]:
    status, answer, _ = await api.call("GET", "/1/profile.json", params=query, headers=CLEVERTAP_HEADERS)
    return status, answer


async def test_uploaded_profile_is_readable_and_counted_and_reset_undoes_it(api) -> None:
    new = {"identity": "jack-13", "type": "profile", "ts": 1521645200,
           "profileData": {"Name": "Jack Montana", "Email": "jack@example.com", "Phone": "+35922333232",
                           "Customer Type": "Diamond", "Score": 308, "MSG-email": True}}
    assert (await upload(api, [new], dryRun="1"))[1]["status"] == "success"
    assert (await read_profile(api, identity="jack-13"))[0] == 404, "dryRun stores nothing"
    await upload(api, [new, {"identity": "jack-13", "type": "event", "evtName": "Charged", "ts": 1735776000,
                             "evtData": {"Amount": 10}},
                       {"objectId": "__jack", "identity": "jack-13", "type": "token",
                        "tokenData": {"id": "tok-1", "type": "apns"}}])
    status, answer = await read_profile(api, email="jack@example.com")
    record = answer["record"]
    assert status == 200 and record["identity"] == "jack-13" and record["name"] == "Jack Montana"
    assert record["profileData"]["Score"] == 308 and record["profileData"]["Phone"] == "+35922333232"
    assert record["events"]["Charged"] == {"count": 1, "first_seen": 1735776000, "last_seen": 1735776000}
    assert [p["platform"] for p in record["platformInfo"]] == ["iOS"]
    where = {"common_profile_properties": {"profile_fields": [
        {"name": "Customer Type", "operator": "equals", "value": "Diamond"}]}}
    status, count, _ = await api.call("POST", "/1/counts/profiles.json", json=where, headers=CLEVERTAP_HEADERS)
    assert (status, count) == (200, {"status": "success", "count": 1})
    await api.control("POST", "/reset")
    assert (await read_profile(api, identity="jack-13"))[0] == 404


async def test_profile_of_a_generated_user(api) -> None:
    user = (await api.user(lambda p: [d["platform"] for d in p["devices"]] == ["android"]))["identity"]
    status, answer = await read_profile(api, identity=user)
    record = answer["record"]
    assert status == 200 and record["identity"] == user and record["profileData"]["Customer Type"]
    assert [p["platform"] for p in record["platformInfo"]] == ["Android"]
    assert (await read_profile(api, objectId=record["platformInfo"][0]["objectId"]))[1] == answer
    assert (await read_profile(api, email=record["email"]))[1] == answer


async def test_event_counts_follow_window_and_properties(api) -> None:
    async def count(body: dict[str, Any]) -> int:
        status, answer, _ = await api.call("POST", "/1/counts/events.json", json=body, headers=CLEVERTAP_HEADERS)
        assert status == 200, answer
        return answer["count"]

    year = await count({"event_name": "Charged", "from": 20250101, "to": 20251231})
    half = await count({"event_name": "Charged", "from": 20250101, "to": 20250630})
    big = await count({"event_name": "Charged", "from": 20250101, "to": 20251231,
                       "event_properties": [{"name": "Amount", "operator": "greater_than", "value": 100}]})
    assert year > half > 0 and year > big > 0
    assert await count({"event_name": "Never Happened", "from": 20250101, "to": 20251231}) == 0
