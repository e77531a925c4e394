"""The Netcore operation table: three campaign API generations plus the audience-data APIs (spec netcore.md).

Each operation belongs to one *family*, which picks its auth rule (``auth.py``) and its answer envelope
(``errors.py``): gen-1 ``/campaign/*`` (spec §1), gen-2 ``/v3/campaign/create`` (§2), gen-3
``/v4/campaign/*`` (§4), the apiv2 contact API (§6.1) and the activity upload API (§6.3).
"""

from __future__ import annotations

from typing import Literal

from sandbox.core.operations import Operation, operation
from sandbox.providers.netcore import activity, campaign, contacts, export, v3, v4

VENDOR = "netcore"

Family = Literal["gen1", "v3", "v4", "apiv2", "activity"]

FAMILIES: dict[str, Family] = {
    "campaign_create": "gen1",
    "campaign_execute": "gen1",
    "v3_campaign_create": "v3",
    "v4_campaign_create": "v4",
    "v4_campaign_update": "v4",
    "v4_campaign_get": "v4",
    "v4_campaign_list": "v4",
    "v4_campaign_test": "v4",
    "v4_campaign_delete": "v4",
    "v4_audience_export": "v4",
    "apiv2": "apiv2",
    "activity_upload": "activity",
}

PATH_FAMILIES: tuple[tuple[str, Family], ...] = (
    ("/v4/", "v4"), ("/v3/", "v3"), ("/apiv2", "apiv2"), ("/v1/activity/", "activity"), ("/campaign/", "gen1"))
"""The family of an unmatched path (a 404/405 under a family's prefix answers in that family's envelope)."""

ROOTS = ("/campaign/", "/v3/campaign/", "/v4/campaign/", "/v4/audience/", "/apiv2", "/v1/activity/")
"""Path prefixes of Netcore's real APIs (``Provider.roots``)."""


def family_of_path(path: str) -> Family:
    if path.startswith(f"/{VENDOR}/"):
        path = path[len(VENDOR) + 1:]
    return next((family for prefix, family in PATH_FAMILIES if path.startswith(prefix)), "gen1")


def operations() -> list[Operation]:
    return [
        operation(VENDOR, "campaign_create", "POST", "/campaign/create", campaign.campaign_create),
        operation(VENDOR, "campaign_execute", "POST", "/campaign/execute", campaign.campaign_execute),
        operation(VENDOR, "v3_campaign_create", "POST", "/v3/campaign/create", v3.v3_campaign_create),
        operation(VENDOR, "v4_campaign_create", "POST", "/v4/campaign/create", v4.v4_campaign_create),
        operation(VENDOR, "v4_campaign_update", "POST", "/v4/campaign/update", v4.v4_campaign_update),
        operation(VENDOR, "v4_campaign_get", "POST", "/v4/campaign/get", v4.v4_campaign_get),
        operation(VENDOR, "v4_campaign_list", "POST", "/v4/campaign/list", v4.v4_campaign_list),
        operation(VENDOR, "v4_campaign_test", "POST", "/v4/campaign/test", v4.v4_campaign_test),
        operation(VENDOR, "v4_campaign_delete", "POST", "/v4/campaign/delete", v4.v4_campaign_delete),
        operation(VENDOR, "v4_audience_export", "POST", "/v4/audience/export", export.v4_audience_export),
        # 3P clients send apiv2 calls as GET with every parameter in the query, too (spec §6.1).
        operation(VENDOR, "apiv2", "POST", "/apiv2", contacts.apiv2, body="form"),
        operation(VENDOR, "apiv2", "GET", "/apiv2", contacts.apiv2, body="form"),
        operation(VENDOR, "activity_upload", "POST", "/v1/activity/upload", activity.activity_upload,
                  body="json_value"),
    ]
