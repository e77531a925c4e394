"""``/apiv2?type=contact&activity=add|addsync|update|delete|bulkupload``: contacts and list membership
(spec §6.1); ``activity=upload_contact_and_publish`` is the email campaign call (``publish.py``).
Parameters come from the query or the form body (real clients use both); ``data`` is a JSON string of
attributes (for ``delete``: the primary-key value).

The async activities (``add``, ``update``, ``delete``) "validate only the API key and return a success
response" [V-doc §6.1]: bad data is accepted and ignored. ``addsync`` validates and reports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import orjson

from sandbox.core.operations import Call, Reply
from sandbox.providers.netcore import errors
from sandbox.providers.netcore.publish import upload_contact_and_publish
from sandbox.providers.netcore.state import NetcoreState, TenantData, state_of

TYPE = "contact"
ASYNC, SYNC, DELETE, BULK = ("add", "update"), "addsync", "delete", "bulkupload"
PUBLISH = "upload_contact_and_publish"


def params_of(call: Call) -> dict[str, str]:
    """Query parameters, completed by the form body's."""
    merged = dict(call.query)
    for key, value in (call.body or {}).items():
        if not merged.get(key):
            merged[key] = value
    return merged


async def apiv2(call: Call) -> Reply:
    params = params_of(call)
    activity = params.get("activity", "")
    if activity == PUBLISH:  # the documented URL carries no type= (spec §3)
        return await upload_contact_and_publish(call)
    if params.get("type") != TYPE or activity not in (*ASYNC, SYNC, DELETE, BULK):
        raise errors.fail(errors.APIV2_INVALID_ACTIVITY, "activity")
    state = state_of(call.provider)
    data = state.tenant(call.tenant)
    if activity == SYNC:
        _add(state, data, call.tenant, _attributes(params.get("data", "")),
             _list_id(call, state, data, params, report=True))
        return Reply({"requestid": state.request_id(call.tenant), "result": errors.APIV2_SUCCESS,
                      "details": errors.APIV2_ADDED})
    if activity in ASYNC:
        with contextlib.suppress(errors.NetcoreFail):  # async: only the key is validated (spec §6.1)
            _add(state, data, call.tenant, _attributes(params.get("data", "")),
                 _list_id(call, state, data, params, report=False))
    elif activity == DELETE:
        list_id = params.get("listid", "").strip()
        if not list_id:
            raise errors.fail(errors.APIV2_LIST_REQUIRED, "listid")
        identity = state.identity(str(params.get("data", "")).strip(), call.tenant)
        if identity in (state.members(data, call.tenant, "lists", list_id) or ()):
            data.lists[list_id].remove(identity)
    return _success(state, call.tenant)


def _success(state: NetcoreState, tenant: str | None) -> Reply:
    return Reply({"requestid": state.request_id(tenant), "result": errors.APIV2_SUCCESS})


def _attributes(raw: str) -> dict[str, Any]:
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.fail(errors.APIV2_INVALID_DATA, "data") from None
    if not isinstance(parsed, dict):
        raise errors.fail(errors.APIV2_INVALID_DATA, "data")
    return parsed


def _list_id(call: Call, state: NetcoreState, data: TenantData, params: Mapping[str, str], *,
             report: bool) -> str | None:
    """The panel list ``listid`` names (learned in learn mode). An unknown one fails ``addsync`` (``report``);
    the async activities ignore it in strict mode, as they ignore any bad data."""
    list_id = str(params.get("listid", "")).strip()
    if not list_id:
        return None
    if not report and call.provider.strict and state.panel.lists.get(call.tenant, list_id) is None \
            and list_id not in data.lists:
        return None
    try:
        state.audience_known(call, data, call.tenant, "lists", list_id,
                             lambda: errors.fail(errors.LIST_NOT_FOUND, "listid"))
    except errors.NetcoreFail:
        if report:
            raise
        return None
    return list_id


def _add(state: NetcoreState, data: TenantData, tenant: str | None, attributes: dict[str, Any],
         list_id: str | None) -> None:
    """Write the contact to the shared population (and the list)."""
    if not any(attributes.get(k) not in (None, "") for k in ("CUSTOMER_ID", "EMAIL", "MOBILE")):
        raise errors.fail(errors.APIV2_PRIMARY_KEY_MISSING, "data")
    identity = state.contact(data, tenant, attributes)
    if identity is not None and list_id is not None:
        data.add_to(data.lists, list_id, identity)
