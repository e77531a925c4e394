"""``POST /1/upload``: events, profiles and device tokens, validated one record at a time (spec §5.3, §8).

Each record is checked in the recorded order (identity, type, ``ts`` 525, then per type: profiles Email 515
-> Phone 516 (then normalised) -> Gender 514 -> Employed 517 -> Education 518 -> Married 519 -> Age 520).
A failing record is answered with its code, CleverTap's text and the record as normalised so far. The
envelope is ``success`` (all processed), ``partial`` or ``fail`` (none processed), always HTTP 200
[V-rec]. ``?dryRun=1`` validates and stores nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.clevertap import errors
from sandbox.providers.clevertap.account import Account

if TYPE_CHECKING:
    from sandbox.providers.clevertap import CleverTap

IDENTITY_KEYS = ("identity", "FBID", "GPID", "objectId")
RESTRICTED_EVENTS = frozenset({"App Launched", "App Installed", "App Uninstalled", "Notification Sent",
                               "Notification Viewed", "Notification Clicked", "UTM Visited", "Stayed",
                               "Push Impressions", "Channel Unsubscribed"})
"""System events the API refuses (513) [INF: CleverTap's system event names; the exact list is not given]."""
TOKEN_TYPES = frozenset({"apns", "fcm", "gcm", "hms", "xps", "wns", "mpns", "chrome", "firefox", "safari"})
"""Device token types [INF]."""
MAX_EVENT_PROPERTIES = 256
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
GENDERS = frozenset({"M", "F", "O", "Male", "Female", "Other", "Others"})
EDUCATION = frozenset({"School", "College", "Graduate"})
YES_NO = frozenset({"Y", "N"})


class RecordError(Exception):
    def __init__(self, code: int, record: Any) -> None:
        super().__init__(code)
        self.code = code
        self.record = record

    def answer(self, number: int) -> dict[str, Any]:
        text = errors.UPLOAD_RECORD_ERRORS[self.code] + errors.UPLOAD_SKIPPED.format(n=number)
        return {"status": "fail", "code": self.code, "error": text, "record": self.record}


async def upload(call: Call[CleverTap]) -> Reply:
    provider = call.provider
    account: Account = provider.account
    dry_run = call.query.get("dryRun", "0") not in ("0", "", "false")
    if len(call.body["d"]) > errors.UPLOAD_MAX_RECORDS:
        raise errors.CleverTapFail((errors.FIELD_INVALID_CODE, errors.UPLOAD_TOO_MANY))
    processed = 0
    unprocessed: list[dict[str, Any]] = []
    accepted: list[dict[str, Any]] = []
    for number, record in enumerate(call.body["d"], 1):
        try:
            accepted.append(check_record(record, account))
        except RecordError as exc:
            unprocessed.append(exc.answer(number))
            continue
        processed += 1
    if not dry_run and accepted:
        provider.store_uploads(call, accepted)
    status = "success" if not unprocessed else "partial" if processed else "fail"
    return Reply({"status": status, "processed": processed, "unprocessed": unprocessed})


def check_record(original: Any, account: Account) -> dict[str, Any]:
    """The record as accepted (normalised), or RecordError with the record as normalised so far."""
    if not isinstance(original, dict):
        raise RecordError(512, original)
    record = dict(original)  # the record as accepted is normalised: the request's own stays as sent
    if isinstance(record.get("profileData"), dict):
        record["profileData"] = dict(record["profileData"])  # _profile normalises in it (Phone)
    kind = record.get("type")
    if kind == "token":
        object_id = record.get("objectId")
        if not isinstance(object_id, str) or not object_id:
            raise RecordError(530, record)
    elif not any(_present(record.get(key)) for key in IDENTITY_KEYS):
        raise RecordError(523, record)
    if kind not in ("event", "profile", "token"):
        raise RecordError(524, record)
    if "ts" in record:
        ts = record["ts"]
        if isinstance(ts, bool) or not isinstance(ts, int) or not 0 < ts < 10**11:
            raise RecordError(525, record)
    if "objectId" in record and (not isinstance(record["objectId"], str) or not record["objectId"]):
        raise RecordError(526, record)
    if kind == "event":
        _event(record, account)
    elif kind == "profile":
        _profile(record)
    else:
        _token(record)
    return record


def _one_of(value: Any, allowed: frozenset[str]) -> bool:
    return isinstance(value, str) and value in allowed


def _present(value: Any) -> bool:
    return value is not None and value != "" and not isinstance(value, bool | dict | list)


def _event(record: dict[str, Any], account: Account) -> None:
    name = record.get("evtName")
    if not isinstance(name, str) or not name.strip():
        raise RecordError(509, record)
    data = record.get("evtData", {})
    if not isinstance(data, dict):
        raise RecordError(512, record)
    if name in RESTRICTED_EVENTS:  # a str, checked above
        raise RecordError(513, record)
    if name in account.discarded_events:
        raise RecordError(528, record)
    if len(data) > MAX_EVENT_PROPERTIES:
        raise RecordError(522, record)


def _profile(record: dict[str, Any]) -> None:
    data = record.get("profileData")
    if not isinstance(data, dict):
        raise RecordError(524, record)
    if "Email" in data and not (isinstance(data["Email"], str) and EMAIL.match(data["Email"])):
        raise RecordError(515, record)
    if "Phone" in data:
        phone = data["Phone"]
        if not isinstance(phone, str) or not PHONE.match(phone):
            raise RecordError(516, record)
        data["Phone"] = int(phone[1:])  # recorded: later failures echo "+35922333232" as 35922333232
    if "Gender" in data and not _one_of(data["Gender"], GENDERS):
        raise RecordError(514, record)
    for key, allowed, code in (("Employed", YES_NO, 517), ("Education", EDUCATION, 518), ("Married", YES_NO, 519)):
        if key in data and not _one_of(data[key], allowed):
            raise RecordError(code, record)
    if "identity" in record and not isinstance(record["identity"], str):
        record["identity"] = str(record["identity"])  # recorded: identity 13 comes back as "13" in 520
    if "Age" in data:
        age = data["Age"]
        if isinstance(age, str) and age.isdigit():
            age = int(age)
        if isinstance(age, bool) or not isinstance(age, int) or not 0 < age < 150:
            raise RecordError(520, record)


def _token(record: dict[str, Any]) -> None:
    data = record.get("tokenData")
    if not isinstance(data, dict):
        raise RecordError(531, record)
    if "id" not in data:
        raise RecordError(532, record)
    if "type" not in data:
        raise RecordError(533, record)
    if not _one_of(data["type"], TOKEN_TYPES):
        raise RecordError(534, record)
    if not isinstance(data["id"], str) or not data["id"]:
        raise RecordError(535, record)
