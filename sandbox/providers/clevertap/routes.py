"""The CleverTap operation table (spec §6.6: Message Identity API)."""

from __future__ import annotations

from ...operations import Operation, operation
from . import handlers

VENDOR = "clevertap"


def operations() -> list[Operation]:
    return [
        operation(VENDOR, "send_push", "POST", "/1/send/push.json", handlers.send_push),
        operation(VENDOR, "send_webpush", "POST", "/1/send/webpush.json", handlers.send_webpush),
        operation(VENDOR, "send_email", "POST", "/1/send/email.json", handlers.send_email),
        operation(VENDOR, "send_sms", "POST", "/1/send/sms.json", handlers.send_sms),
        operation(VENDOR, "send_whatsapp", "POST", "/1/send/whatsapp.json", handlers.send_whatsapp),
    ]
