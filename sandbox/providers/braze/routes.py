"""The Braze operation table (spec §6-§10): name, method, path, handler and the key permission it needs."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.core.operations import Handler, Operation, operation
from sandbox.providers.braze import exports, reports, schedule, send, users

VENDOR = "braze"


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    method: str
    path: str
    handler: Handler
    permission: str
    """REST API key permission (Braze dashboard names, spec §1 "Auth")."""


ROUTES: tuple[Route, ...] = (
    Route("messages_send", "POST", "/messages/send", send.messages_send, "messages.send"),
    Route("campaigns_trigger_send", "POST", "/campaigns/trigger/send", send.campaigns_trigger_send,
          "campaigns.trigger.send"),
    Route("canvas_trigger_send", "POST", "/canvas/trigger/send", send.canvas_trigger_send, "canvas.trigger.send"),
    Route("transactional_send", "POST", "/transactional/v1/campaigns/{campaign_id}/send", send.transactional_send,
          "transactional.send"),
    Route("sends_id_create", "POST", "/sends/id/create", send.sends_id_create, "sends.id.create"),
    Route("messages_schedule_create", "POST", "/messages/schedule/create", schedule.messages_schedule_create,
          "messages.schedule.create"),
    Route("messages_schedule_update", "POST", "/messages/schedule/update", schedule.messages_schedule_update,
          "messages.schedule.update"),
    Route("messages_schedule_delete", "POST", "/messages/schedule/delete", schedule.messages_schedule_delete,
          "messages.schedule.delete"),
    Route("campaigns_trigger_schedule_create", "POST", "/campaigns/trigger/schedule/create",
          schedule.campaigns_trigger_schedule_create, "campaigns.trigger.schedule.create"),
    Route("campaigns_trigger_schedule_update", "POST", "/campaigns/trigger/schedule/update",
          schedule.campaigns_trigger_schedule_update, "campaigns.trigger.schedule.update"),
    Route("campaigns_trigger_schedule_delete", "POST", "/campaigns/trigger/schedule/delete",
          schedule.campaigns_trigger_schedule_delete, "campaigns.trigger.schedule.delete"),
    Route("canvas_trigger_schedule_create", "POST", "/canvas/trigger/schedule/create",
          schedule.canvas_trigger_schedule_create, "canvas.trigger.schedule.create"),
    Route("canvas_trigger_schedule_update", "POST", "/canvas/trigger/schedule/update",
          schedule.canvas_trigger_schedule_update, "canvas.trigger.schedule.update"),
    Route("canvas_trigger_schedule_delete", "POST", "/canvas/trigger/schedule/delete",
          schedule.canvas_trigger_schedule_delete, "canvas.trigger.schedule.delete"),
    Route("messages_scheduled_broadcasts", "GET", "/messages/scheduled_broadcasts",
          schedule.messages_scheduled_broadcasts, "messages.schedule_broadcasts"),
    Route("users_track", "POST", "/users/track", users.users_track, "users.track"),
    Route("users_delete", "POST", "/users/delete", users.users_delete, "users.delete"),
    Route("users_identify", "POST", "/users/identify", users.users_identify, "users.identify"),
    Route("users_alias_new", "POST", "/users/alias/new", users.users_alias_new, "users.alias.new"),
    Route("users_export_ids", "POST", "/users/export/ids", users.users_export_ids, "users.export.ids"),
    Route("campaigns_list", "GET", "/campaigns/list", exports.campaigns_list, "campaigns.list"),
    Route("campaigns_details", "GET", "/campaigns/details", exports.campaigns_details, "campaigns.details"),
    Route("canvas_list", "GET", "/canvas/list", exports.canvas_list, "canvas.list"),
    Route("canvas_details", "GET", "/canvas/details", exports.canvas_details, "canvas.details"),
    Route("segments_list", "GET", "/segments/list", exports.segments_list, "segments.list"),
    Route("segments_details", "GET", "/segments/details", exports.segments_details, "segments.details"),
    Route("campaigns_data_series", "GET", "/campaigns/data_series", reports.campaigns_data_series,
          "campaigns.data_series"),
    Route("sends_data_series", "GET", "/sends/data_series", reports.sends_data_series, "sends.data_series"),
    Route("canvas_data_series", "GET", "/canvas/data_series", reports.canvas_data_series, "canvas.data_series"),
)
PERMISSIONS: dict[str, str] = {route.name: route.permission for route in ROUTES}


def operations() -> list[Operation]:
    """POSTs validate their JSON body in the pipeline; GETs carry no body (their query is checked by
    the provider against the same-named schema)."""
    return [operation(VENDOR, r.name, r.method, r.path, r.handler, validated=r.method == "POST",
                      body="json" if r.method == "POST" else "none") for r in ROUTES]
