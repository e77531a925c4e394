"""``POST /v4/audience/export``: export a list or segment (spec §4.1 "Export"), answered by its required
``callback_details`` once the export is done.

Body (documented): ``audience_details`` {``audience_type`` list|segment, ``audience_id`` int,
``attributes_needed`` [string] (at most 100), ``blocklist_type`` email|mobile}, ``file_type`` (``csv`` only,
the default), ``callback_details`` (required). The answer and the callback's values are not documented [INF]:
the v4 envelope with ``{"status": "success", "description", "export_id"}``, and the callback body gets
``{{export_id}}``, ``{{audience_id}}``, ``{{audience_type}}``, ``{{row_count}}``, ``{{file_type}}``,
``{{status}}`` and ``{{description}}`` substituted. No file is produced.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sandbox.core.operations import Call, Reply
from sandbox.providers.netcore import errors, webhooks
from sandbox.providers.netcore.audience import Audience, check_audience, resolver, tree_of
from sandbox.providers.netcore.state import state_of

MAX_ATTRIBUTES = 100
""""Max 100 attributes per export" [V-doc export-api]."""
EXPORT_ACCEPTED = "Export request accepted successfully."
"""[INF] the answer's description and message."""
EXPORT_DONE = "Export completed successfully."
"""[INF] ``{{description}}`` in the callback."""


async def v4_audience_export(call: Call) -> Reply:
    state = state_of(call.provider)
    data = state.tenant(call.tenant)
    body: dict[str, Any] = call.body
    details = body["audience_details"]
    audience_id = str(details["audience_id"])
    audience = Audience(lists=[audience_id]) if details["audience_type"] == "list" else Audience(segments=[audience_id])
    # An export reads an audience: it never learns one (like estimates).
    check_audience(None, state, data, call.tenant, audience, {"lists": "audience_details.audience_id",
                                                              "segments": "audience_details.audience_id"})
    if len(details.get("attributes_needed") or ()) > MAX_ATTRIBUTES:
        raise errors.invalid("audience_details.attributes_needed")
    state.heal(data, call.tenant)
    rows = int(np.count_nonzero(call.services.audience.evaluate(
        tree_of(audience), tenant=call.tenant, resolve_member=resolver(state, data, call.tenant))))
    export_id = state.ids.sequence(call.tenant, "export")
    values = {"export_id": export_id, "audience_id": details["audience_id"], "audience_type": details["audience_type"],
              "row_count": rows, "file_type": body.get("file_type", "csv"), "status": errors.SUCCESS,
              "description": EXPORT_DONE, "message": EXPORT_DONE, "operation": "v4_audience_export"}
    webhooks.call_back(call.services, call.tenant, body["callback_details"], "v4_audience_export", values,
                       f"export {export_id}")
    return Reply(errors.v4_body({"status": errors.SUCCESS, "description": EXPORT_ACCEPTED, "export_id": export_id},
                                EXPORT_ACCEPTED))
