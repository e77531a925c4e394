"""The CleverTap operation table: Message Identity API (spec §6.6), campaigns (§6.1-§6.5), user data (§8)."""

from __future__ import annotations

from sandbox.core.operations import Operation, operation
from sandbox.providers.clevertap import campaigns, counts, handlers, profiles, uploads

VENDOR = "clevertap"


def operations() -> list[Operation]:
    return [
        operation(VENDOR, "send_push", "POST", "/1/send/push.json", handlers.send_push),
        operation(VENDOR, "send_webpush", "POST", "/1/send/webpush.json", handlers.send_webpush),
        operation(VENDOR, "send_email", "POST", "/1/send/email.json", handlers.send_email),
        operation(VENDOR, "send_sms", "POST", "/1/send/sms.json", handlers.send_sms),
        operation(VENDOR, "send_whatsapp", "POST", "/1/send/whatsapp.json", handlers.send_whatsapp),
        operation(VENDOR, "targets_create", "POST", "/1/targets/create.json", campaigns.targets_create),
        # async_estimate follow-up: GET ?req_id= (a re-POST with ?req_id= works too) [INF spec §6.2]
        operation(VENDOR, "targets_create", "GET", "/1/targets/create.json", campaigns.targets_create,
                  validated=False, body="none"),
        operation(VENDOR, "targets_list", "POST", "/1/targets/list.json", campaigns.targets_list),
        operation(VENDOR, "targets_result", "POST", "/1/targets/result.json", campaigns.targets_result),
        operation(VENDOR, "targets_stop", "POST", "/1/targets/stop.json", campaigns.targets_stop),
        operation(VENDOR, "upload", "POST", "/1/upload", uploads.upload),
        operation(VENDOR, "profile", "GET", "/1/profile.json", profiles.profile, validated=False, body="none"),
        operation(VENDOR, "counts_events", "POST", "/1/counts/events.json", counts.counts_events),
        operation(VENDOR, "counts_events", "GET", "/1/counts/events.json", counts.counts_events,
                  validated=False, body="none"),
        operation(VENDOR, "counts_profiles", "POST", "/1/counts/profiles.json", counts.counts_profiles),
        operation(VENDOR, "counts_profiles", "GET", "/1/counts/profiles.json", counts.counts_profiles,
                  validated=False, body="none"),
    ]
