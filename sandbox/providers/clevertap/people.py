"""The population as the CleverTap provider sees it: a thin seam over the shared ``AudienceService``
(``Services.audience``, docs/services.md), plus the translation of ``/1/upload`` records into its writes.

Upload mapping [INF: CleverTap's profile keys to the population's fields]: ``profileData`` standard keys
(Name, Email, Phone, Gender, DOB, Age, City, Country, Customer Type...) set the matching profile field,
``MSG-email``/``MSG-sms``/``MSG-push``/``MSG-whatsapp`` = false unsubscribe that channel (true opts in),
any other key is a custom property; events land in the profile's history (``ts`` default: population
time now); tokens add a device (apns -> ios, fcm/gcm/hms/xps -> android, chrome/firefox/safari -> web).
Records addressed by ``objectId``/``FBID``/``GPID`` update the profile that has that id, or create one.
"""

from __future__ import annotations

from typing import Any

from sandbox.population.audience.service import AudienceService

PROFILE_FIELDS = {"Name": "name", "Email": "email", "Phone": "phone", "Gender": "gender", "DOB": "dob",
                  "Age": "age", "City": "city", "Country": "country", "Customer Type": "customer_type",
                  "Time Zone": "time_zone", "Language": "language"}
SUBSCRIPTIONS = {"MSG-email": "email", "MSG-sms": "sms", "MSG-push": "push", "MSG-whatsapp": "whatsapp"}
TOKEN_PLATFORMS = {"apns": "ios", "fcm": "android", "gcm": "android", "hms": "android", "xps": "android",
                   "chrome": "web", "firefox": "web", "safari": "web", "wns": "windows", "mpns": "windows"}
ID_KEYS = ("identity", "objectId", "FBID", "GPID")


class People:
    def __init__(self) -> None:
        self._service: AudienceService | None = None

    def attach(self, service: AudienceService) -> None:
        self._service = service

    @property
    def service(self) -> AudienceService:
        if self._service is None:
            raise RuntimeError("the population is not loaded yet (provider startup has not run)")
        return self._service

    # -- reads ------------------------------------------------------------------------------------
    def find_by(self, key: str, value: str, tenant: str | None) -> dict[str, Any] | None:
        return self.service.find(value, (key,), tenant=tenant)

    def locate(self, value: str, fields: tuple[str, ...], tenant: str | None) -> tuple[int, dict[str, Any]] | None:
        """(row, profile) of the profile ``tenant`` sees with ``value`` under one of ``fields``."""
        return self.service.locate(value, fields, tenant=tenant)

    def profile_at(self, row: int, tenant: str | None) -> dict[str, Any]:
        return self.service.profile_at(row, tenant=tenant)

    # -- writes (/1/upload) -------------------------------------------------------------------------
    def identity_of(self, record: dict[str, Any], tenant: str | None) -> str:
        if record.get("identity") not in (None, ""):
            return str(record["identity"])
        for key in ("objectId", "FBID", "GPID"):
            value = record.get(key)
            if value not in (None, ""):
                found = self.service.find(value, ("objectId",) if key == "objectId" else ("identity",),
                                          tenant=tenant)
                return str(found["identity"]) if found is not None else str(value)
        raise ValueError("a checked record always has an identity")

    def apply(self, record: dict[str, Any], tenant: str | None) -> None:
        identity = self.identity_of(record, tenant)
        kind = record["type"]
        if kind == "event":
            ts = record.get("ts") or self.service.now(tenant)
            self.service.add_event(identity, record["evtName"], ts, record.get("evtData") or {}, tenant=tenant)
        elif kind == "profile":
            self.service.update(identity, self._profile_changes(identity, record, tenant), tenant=tenant)
        else:
            self.service.update(identity, self._token_changes(identity, record, tenant), tenant=tenant)

    def _profile_changes(self, identity: str, record: dict[str, Any], tenant: str | None) -> dict[str, Any]:
        current = self.service.find(identity, ("identity",), tenant=tenant) or {}
        changes: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        reach = {channel: dict(state) for channel, state in (current.get("reachability") or {}).items()}
        for key, value in record["profileData"].items():
            if key in PROFILE_FIELDS:
                changes[PROFILE_FIELDS[key]] = f"+{value}" if key == "Phone" else value
            elif key in SUBSCRIPTIONS and isinstance(value, bool):
                entry = reach.setdefault(SUBSCRIPTIONS[key], {"invalid": False, "dnd": False})
                entry["state"] = "opted_in" if value else "unsubscribed"
                changes["reachability"] = reach
            else:
                properties[key] = value
        if "objectId" in record:
            changes["objectId"] = record["objectId"]
        if properties:
            changes["properties"] = properties
        return changes

    def _token_changes(self, identity: str, record: dict[str, Any], tenant: str | None) -> dict[str, Any]:
        current = self.service.find(identity, ("identity",), tenant=tenant) or {}
        token = record["tokenData"]
        devices = [d for d in current.get("devices") or () if d.get("token") != token["id"]]
        devices.append({"platform": TOKEN_PLATFORMS[token["type"]], "token": token["id"],
                        "last_active": int(record.get("ts") or self.service.now())})
        return {"devices": devices, "objectId": record["objectId"]}
