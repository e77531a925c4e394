"""``GET /1/profile.json?email=|identity=|objectId=``: one user profile (spec §8; node library tests).

The record follows the shape of CleverTap's "Get User Profile" answer: ``email``, ``identity``, ``name``,
``profileData`` (custom properties and standard fields by their dashboard names), ``events`` (count,
first and last seen per event) and ``platformInfo`` (one entry per device) [INF: field set].
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sandbox.core.operations import Call, Reply
from sandbox.providers.clevertap import create_checks, errors

if TYPE_CHECKING:
    from sandbox.providers.clevertap import CleverTap

LOOKUP_KEYS = (("email", "email"), ("identity", "identity"), ("objectId", "objectId"))
STANDARD_FIELDS = (("Name", "name"), ("Email", "email"), ("Phone", "phone"), ("Gender", "gender"),
                   ("DOB", "dob"), ("Age", "age"), ("City", "city"), ("Country", "country"),
                   ("Customer Type", "customer_type"), ("Time Zone", "time_zone"))
PLATFORM_NAMES = {"android": "Android", "ios": "iOS", "web": "Web"}


async def profile(call: Call[CleverTap]) -> Reply:
    people = call.provider.people
    for param, key in LOOKUP_KEYS:
        value = call.query.get(param)
        if value:
            found = people.find_by(key, value, call.tenant)
            if found is None:
                raise errors.CleverTapFail((errors.PROFILE_NOT_FOUND_STATUS, errors.PROFILE_NOT_FOUND),
                                           status=errors.PROFILE_NOT_FOUND_STATUS)
            return Reply({"status": "success", "record": record(found)})
    raise create_checks.fail(errors.PROFILE_KEY_MISSING)


def record(user: dict[str, Any]) -> dict[str, Any]:
    data = {name: user[field] for name, field in STANDARD_FIELDS if user.get(field) is not None}
    data.update(user.get("properties") or {})
    seen: dict[str, dict[str, int]] = defaultdict(lambda: {"count": 0, "first_seen": 0, "last_seen": 0})
    for event in user.get("events") or ():
        entry = seen[str(event.get("name"))]
        ts = int(event.get("ts") or 0)
        entry["first_seen"] = ts if not entry["count"] else min(entry["first_seen"], ts)
        entry["last_seen"] = max(entry["last_seen"], ts)
        entry["count"] += 1
    platforms = [{"platform": PLATFORM_NAMES.get(d.get("platform"), d.get("platform")),
                  "push_token": d.get("token"), "objectId": user.get("objectId"),
                  "last_active": d.get("last_active")} for d in user.get("devices") or ()]
    return {"email": user.get("email"), "identity": user.get("identity"), "name": user.get("name"),
            "profileData": data, "events": dict(seen), "platformInfo": platforms}
