"""What a Netcore account holds in its panel (Netcore's dashboard): templates, lists, segments, v4 campaigns
and app ids, each a core ``Dashboard`` (fixtures + run-time additions + per-tenant additions and learned ones).

Requests name these objects by id; ``Dashboard.resolve`` applies the learn/strict rule (docs/netcore.md,
"Account data: learn and strict"): in learn mode an id this tenant has no record of is provisioned, shaped by
the request that named it (a template gets the channel of the campaign using it). What a learned object
holds is the sandbox's choice [INF]: the constants below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.core.dashboard import Dashboard, Dashboards
from sandbox.core.errors import SandboxError
from sandbox.core.operations import Call
from sandbox.providers.netcore.fixtures import FILE_OF, ID_OF, Catalog

VENDOR = "netcore"
COLLECTIONS = ("templates", "lists", "segments", "campaigns", "app_ids")
"""``/_sandbox/vendors/netcore/<collection>`` (``Provider.collections``)."""
FILES = {collection: f"netcore/{file}.json" for collection, file in FILE_OF.items()}
"""Where users declare each collection in ``--fixtures DIR`` (named by strict-mode hints)."""
ID_KEYS = {collection: ID_OF.get(file, "id") for collection, file in FILE_OF.items()}

LEARNED_TITLE = "Template {id}"
LEARNED_BODY = "Learned template {id}: its content is in your Netcore panel"
LEARNED_EMAIL_BODY = "<p>Learned template {id}: its content is in your Netcore panel</p>"
"""[INF] The content of a template learned from a request (the sandbox cannot know the real one); deliveries
show it. Declare the template (``templates.json`` or ``POST /_sandbox/vendors/netcore/templates``) for real
content."""
LEARNED_LIST = "List {id}"
LEARNED_SEGMENT = "Segment {id}"
"""[INF] A learned list or segment is named after its id and has no members (it reaches nobody until
contacts are added to it: ``apiv2`` ``listid``, or a declared ``members`` / ``rule``)."""
LEARNED_CAMPAIGN = "Campaign {id}"
LEARNED_CAMPAIGN_BODY = "<p>Learned campaign {id}: its content is in your Netcore panel</p>"
"""[INF] The name of a v4 campaign learned from a ``get``/``test``/``delete`` (an ``update`` names it), and
the body its test emails get while it has no ``template_id``."""
LEARNED_APP = "App {id}"


class Panel(Dashboards):
    """The five collections of one server (every tenant's view of them)."""

    def __init__(self, catalog: Catalog) -> None:
        def board(name: str, fixtures: dict[str, dict[str, Any]]) -> Dashboard[dict[str, Any]]:
            return Dashboard(VENDOR, name, FILES[name], fixtures)

        self.templates = board("templates", catalog.templates)
        self.lists = board("lists", catalog.lists)
        self.segments = board("segments", catalog.segments)
        self.campaigns = board("campaigns", catalog.campaigns)
        self.app_ids = board("app_ids", catalog.app_ids)

    def __getitem__(self, collection: str) -> Dashboard[dict[str, Any]]:
        if collection not in COLLECTIONS:
            raise KeyError(collection)
        found: Dashboard[dict[str, Any]] = getattr(self, collection)
        return found

    def by_name(self) -> dict[str, Dashboard[Any]]:
        return {name: self[name] for name in COLLECTIONS}


def learnable(item_id: Any) -> bool:
    """Netcore's template, list, segment and campaign ids are numbers: anything else can never exist in a
    panel, so it is rejected in both modes (a check that does not depend on dashboard state)."""
    return isinstance(item_id, int | str) and not isinstance(item_id, bool) and str(item_id).strip().isdigit()


def resolve(call: Call[Any] | None, board: Dashboard[dict[str, Any]], tenant: str | None, item_id: Any,
            make: Callable[[], dict[str, Any]], reject: Callable[[], SandboxError], *,
            numeric: bool = True) -> dict[str, Any]:
    """``board``'s object ``item_id`` for ``tenant``: known, or learned / rejected by ``Dashboard.resolve``.
    Without a call (estimates, scheduled sends) nothing is learned: unknown ids are rejected."""
    found = board.get(tenant, item_id)
    if found is not None:
        return found
    if call is None or (numeric and not learnable(item_id)):
        raise reject()
    return board.resolve(call, item_id, make, reject)


def learned_template(template_id: Any, channel: str) -> dict[str, Any]:
    ident = int(template_id)
    if channel == "email":
        return {"id": ident, "channel": channel, "name": LEARNED_TITLE.format(id=ident),
                "subject": LEARNED_TITLE.format(id=ident), "body": LEARNED_EMAIL_BODY.format(id=ident)}
    return {"id": ident, "channel": channel, "name": LEARNED_TITLE.format(id=ident),
            "title": LEARNED_TITLE.format(id=ident), "body": LEARNED_BODY.format(id=ident)}


def learned_audience(kind: str, audience_id: Any) -> dict[str, Any]:
    name = LEARNED_LIST if kind == "lists" else LEARNED_SEGMENT
    return {"id": int(audience_id), "name": name.format(id=int(audience_id)), "members": []}


def learned_campaign(campaign_id: int, entry: dict[str, Any] | None) -> dict[str, Any]:
    """A v4 email draft; an ``update`` entry gives it its fields (the update then applies them)."""
    shaped = {k: v for k, v in (entry or {}).items() if k not in ("campaign_id", "channel", "campaign_state")}
    name = shaped.pop("campaign_name", None) or LEARNED_CAMPAIGN.format(id=campaign_id)
    return {"campaign_id": campaign_id, "channel": "email", "campaign_name": name, "campaign_state": "draft",
            **shaped}


def learned_app(app_id: str) -> dict[str, Any]:
    return {"id": app_id, "name": LEARNED_APP.format(id=app_id)}
