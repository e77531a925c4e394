"""Every Netcore wire string, status and envelope, each citing its source (docs/sources.md).

Netcore answers in a different envelope per API generation (the *family*, see ``routes.FAMILIES``):
gen-1 and v3 ``{"status", "message", ...}`` (spec §1; error bodies [NOT FOUND], §9), v4
``{"data", "message", "statusCode"}`` (§4.2, §4.6), apiv2 ``{"requestid", "result"}`` (§6.1) and the activity
API behind AWS API Gateway (§6.3). Handlers raise ``NetcoreFail(<description>, field=...)`` or neutral
SandboxErrors; ``render`` is the only place that turns either into a body. [INF] marks a guess (spec §9).
"""

from __future__ import annotations

from typing import Any

from sandbox.core.errors import (
    FieldError,
    InvalidBody,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    SandboxError,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from sandbox.core.operations import Reply

# -- gen-1 /campaign/* (spec §1) ------------------------------------------------------------------
CREATED = "Campaign created successfully"
"""gen-1 create success ``message`` [V-doc §1] (HTTP 200, ``"status": "success"``, int ``campaign_id``)."""
SUCCESS = "success"
EXECUTED = "Campaign executed successfully"
"""gen-1 execute success ``message`` [INF §9: "the same envelope as create"]."""
ERROR = "error"
"""gen-1/v3 error ``status`` value [INF §9: error bodies for gen-1 and gen-2 are unknown]."""
MAX_APP_IDS = 5
"""``app_ids``: "Max 5 appids are allowed" [V-doc §1]."""
MAX_TAGS, TAG_MIN, TAG_MAX = 5, 5, 25
"""``tags``: "Max 5 tags, each tag min 5 and max 25" characters [V-doc §1]."""

# -- v3 (spec §2) ---------------------------------------------------------------------------------
SCHEDULED = "Campaign scheduled successfully"
DRAFTED = "Campaign saved as draft"
"""v3 success messages for a scheduled / draft campaign [INF §2: the response section is cut off]."""

# -- v4 (spec §4) ---------------------------------------------------------------------------------
V4_BAD_REQUEST = "The request parameters are invalid."
V4_UNAUTHORIZED = "Authentication failed due to an invalid API key."
V4_SERVER_ERROR = "An error occurred on the server side."
"""The v4 error table, HTTP 400 / 401 / 500 [V-doc §4.2]; the body around them is [INF §4.2]."""
V4_CREATED = "Campaign created successfully."
V4_UPDATED = "Campaign updated successfully."
V4_FETCHED = "Campaign details fetched successfully."
V4_LISTED = "Campaigns listed successfully."
V4_TESTED = "Test campaign sent successfully."
"""v4 success messages [INF §4.3-4.6: the stored pages stop before them]."""
V4_DELETED = "Deletion completed successfully."
V4_DELETED_WITH_CALLBACK = "Deletion completed successfully. The callback action executed successfully."
"""v4 delete ``description`` with a callback [V-doc §4.7]; the text without one is [INF]."""
V4_FAILURE = "failure"
"""``data.status`` of a v4 error [INF: the success value is "success", §4.7]."""

# -- apiv2 contact API (spec §6.1) ----------------------------------------------------------------
APIV2_SUCCESS = "Success"
APIV2_ADDED = "Data added successfully"
"""``addsync`` success ``details`` [V-doc §6.1; key layout INF]."""
APIV2_INVALID_KEY = "Invalid API key"
"""Bad key ``result`` [V-doc §6.1]."""
APIV2_AUTH_STATUS = 401
"""[INF §6.1: the doc does not show the HTTP status of the bad-key answer]."""
APIV2_FAILURE = "Failure"
APIV2_INVALID_ACTIVITY = "Invalid activity"
APIV2_INVALID_DATA = "Invalid data"
APIV2_PRIMARY_KEY_MISSING = "Primary key missing"
APIV2_LIST_REQUIRED = "listid is required"
"""apiv2 error texts [INF §6.1: only the bad-key answer is documented]."""

# -- activity upload (spec §6.3) ------------------------------------------------------------------
GATEWAY_ERROR_HEADER = "x-amzn-errortype"
MISSING_TOKEN = "Missing Authentication Token"
MISSING_TOKEN_TYPE = "MissingAuthenticationTokenException"
"""No key: HTTP 403 + ``x-amzn-errortype`` [3P §6.3]; the body ``{"message": ...}`` is [INF §9]."""
GATEWAY_UNAUTHORIZED = "Unauthorized"
GATEWAY_UNAUTHORIZED_TYPE = "UnauthorizedException"
"""A present but unknown key: 401, API Gateway's authorizer answer [INF §9: "unknown"]."""
ACTIVITY_ACCEPTED = "Activities uploaded successfully"
"""Success ``message`` [INF §9: success bodies are unknown; clients only check HTTP 200]."""
MAX_EVENTS = 1000
"""Up to 1000 events per request [V-doc §6.3]."""

# -- descriptions raised by handlers (every family) [INF §9 unless noted] -------------------------
INVALID_JSON = "Invalid JSON"
CAMPAIGN_NOT_FOUND = "Campaign not found"
CAMPAIGN_ALREADY_EXECUTED = "Campaign already executed"
CAMPAIGN_NOT_EDITABLE = "Campaign can not be updated in its current state"
CAMPAIGN_NAME_TAKEN = "Campaign name already exists"
"""``campaign_name``: "A unique name for the campaign" [V-doc §4.3]; the error text is [INF]."""
TEMPLATE_NOT_FOUND = "Template not found"
TEMPLATE_CHANNEL_MISMATCH = "Template does not belong to this channel"
LIST_NOT_FOUND = "List not found"
SEGMENT_NOT_FOUND = "Segment not found"
APP_NOT_FOUND = "App not found"
"""An ``app_ids`` value the account has no app for (strict mode) [INF]."""
AUDIENCE_MISSING = "No audience selected"
CHANNEL_NOT_SUPPORTED = "Channel not supported"
SCHEDULE_INVALID = "Invalid schedule time"
NOT_FOUND = "Not Found"
METHOD_NOT_ALLOWED = "Method Not Allowed"
PAYLOAD_TOO_LARGE = "Payload Too Large"
TOO_MANY_REQUESTS = "Too Many Requests"
SERVER_ERROR = "Internal Server Error"
"""[INF] routing / server texts of gen-1, v3 and the activity API (no Netcore body recorded, §7)."""


class NetcoreFail(SandboxError):
    """A Netcore rule broken in a handler: ``description`` names it, ``field`` the request field at fault."""

    kind = "vendor_error"

    def __init__(self, description: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(description, details={"field": field}, status=status)
        self.field = field


def fail(description: str, field: str | None = None) -> NetcoreFail:
    return NetcoreFail(description, field=field)


def required(field: str) -> NetcoreFail:
    """[INF] the same ``<field> is required`` text schema violations get (``field_description``)."""
    return NetcoreFail(f"{field} is required", field=field)


def invalid(field: str) -> NetcoreFail:
    return NetcoreFail(f"{field} is invalid", field=field)


# -- rendering ------------------------------------------------------------------------------------
def render(error: SandboxError, family: str) -> Reply:
    status, description, field = _neutral(error)
    return RENDERERS.get(family, _gen1)(error, status, description, field)


def _neutral(error: SandboxError) -> tuple[int, str, str | None]:
    """(HTTP status, description, field) of any error, before a family wraps it."""
    match error:
        case NetcoreFail():
            return error.status, error.message, error.field
        case Unauthorized():
            return 401, V4_UNAUTHORIZED, None
        case InvalidBody():
            return 400, INVALID_JSON, None
        case ValidationFailed():
            first = error.errors[0]
            return 400, field_description(first), field_path(first)
        case NotFound():
            return 404, NOT_FOUND, None
        case MethodNotAllowed():
            return 405, METHOD_NOT_ALLOWED, None
        case PayloadTooLarge():
            return 413, PAYLOAD_TOO_LARGE, None
        case TooManyRequests():
            return 429, TOO_MANY_REQUESTS, None
        case _:
            return 500, SERVER_ERROR, None


def field_path(error: FieldError) -> str:
    """``campaign_details[0].channel``: where the value at fault is (a missing key included)."""
    parts = list(error.path)
    if error.rule == "required" and isinstance(error.expected, str):
        parts.append(error.expected)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def field_description(error: FieldError) -> str:
    """[INF] ``<field> is required`` or ``<field> is invalid`` (Netcore's texts are not recorded)."""
    where = field_path(error) or "body"
    return f"{where} is required" if error.rule == "required" else f"{where} is invalid"


def _gen1(error: SandboxError, status: int, description: str, field: str | None) -> Reply:
    if isinstance(error, Unauthorized):
        description = APIV2_INVALID_KEY  # [INF] gen-1/v3 reuse the documented apiv2 wording (§6.1)
    return Reply({"status": ERROR, "message": description}, status)


def _v4(error: SandboxError, status: int, description: str, field: str | None) -> Reply:
    if status == 400:
        data: dict[str, Any] = {"status": V4_FAILURE, "description": description}
        if field:
            data["field"] = field
        return Reply(v4_body(data, V4_BAD_REQUEST, 400), 400)
    if status >= 500:
        return Reply(v4_body({}, V4_SERVER_ERROR, 500), 500)
    return Reply(v4_body({}, description, status), status)


def _apiv2(error: SandboxError, status: int, description: str, field: str | None) -> Reply:
    if isinstance(error, Unauthorized):
        return Reply({"result": APIV2_INVALID_KEY}, APIV2_AUTH_STATUS)
    if isinstance(error, NetcoreFail) or status == 400:
        return Reply({"result": APIV2_FAILURE, "details": description}, status)
    return Reply({"result": description}, status)


def _activity(error: SandboxError, status: int, description: str, field: str | None) -> Reply:
    if isinstance(error, Unauthorized):
        if error.reason == "missing":
            return Reply({"message": MISSING_TOKEN}, 403, {GATEWAY_ERROR_HEADER: MISSING_TOKEN_TYPE})
        return Reply({"message": GATEWAY_UNAUTHORIZED}, 401, {GATEWAY_ERROR_HEADER: GATEWAY_UNAUTHORIZED_TYPE})
    if isinstance(error, NotFound | MethodNotAllowed):
        # API Gateway answers an unknown resource or method like a missing token [INF §6.3].
        return Reply({"message": MISSING_TOKEN}, 403, {GATEWAY_ERROR_HEADER: MISSING_TOKEN_TYPE})
    return Reply({"status": ERROR, "message": description}, status)


RENDERERS = {"gen1": _gen1, "v3": _gen1, "v4": _v4, "apiv2": _apiv2, "activity": _activity}
"""v3 uses the gen-1 envelope [INF §9: neither generation's error body is documented]."""


def v4_body(data: Any, message: str, status: int = 200) -> dict[str, Any]:
    """The v4 envelope [V-doc §4.6]."""
    return {"data": data, "message": message, "statusCode": status}


def gen1_success(message: str, **extra: Any) -> dict[str, Any]:
    """The gen-1 success envelope [V-doc §1]; v3 reuses it [INF §2]."""
    return {"status": SUCCESS, "message": message, **extra}
