"""Every CleverTap wire string, code and status, each quoting its source (tags, `spec §N`: docs/sources.md).

CleverTap answers errors as ``{"status":"fail","error":"<text>","code":<int>}`` (spec §5.2, seed 003).
This module is the only place that turns a SandboxError into that body.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.core.errors import (
    BadRequest,
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

CONTENT_TYPE = "application/json;charset=utf-8"
"""Response content type of the real API [V-rec] (spec §1)."""

# -- success bodies -------------------------------------------------------------------------------
SEND_ACCEPTED = {"status": "success", "message": "Added to queue for processing"}
"""send/*.json success, exact [V-seed 003 "Example Response"] (spec §6.6)."""

# -- auth (spec §3) -------------------------------------------------------------------------------
AUTH_STATUS = 401
ACCOUNT_INVALID = "Account ID is not valid"
"""Recorded for an unknown account id [V-rec tradeo/clevertap-ruby]; also used when the header is missing
[INF spec §3]."""
CREDENTIALS_INVALID = "Invalid Credentials"
"""Wrong or missing passcode [3P rudder-transformer mock, spec §3]: the real wording is not recorded."""

# -- send/*.json codes (spec §5.2, seed 003 "Notes") ---------------------------------------------
SEND_ERROR_STATUS = 400
"""HTTP status of send validation errors: the only recorded one is 400 (spec §6.6, code 9) [V-rec]; the
status of codes 21/84/73/78 is undocumented [INF]."""
TO_MISSING = (21, "to is a mandatory field")
RECIPIENTS_INVALID = (84, "Invalid recipients")
FREQUENCY_CAPS_NOT_BOOLEAN = (73, "respect_frequency_caps must be a Boolean")
JSON_INVALID = (78, "Invalid JSON payload")
UNEXPECTED = (89, "Unexpected error, please try again")
UNEXPECTED_STATUS = 500
"""[INF] the status of code 89 is undocumented; 500 matches "Unexpected error"."""
ANDROID_CHANNEL_REQUIRED = (9, "Notification channel is required for devices having Android 8.0 or above")
"""send/push.json with platform_specific.android lacking wzrk_cid: HTTP 400, code 9 [V-rec 2020]."""
FIELD_INVALID_CODE = 78
"""[INF] code for other schema violations (wrong type, bad value): the documented list has no closer one
than "Invalid JSON payload"; the ``error`` text names the field."""
MAX_RECIPIENTS = 1000
"""At most 1000 users across all ``to`` arrays [V-seed 003]."""

# -- targets/*.json (spec §6.7: exact texts asserted by a QA suite run against the real API [V-QA]) ------
TARGETS_ERROR_STATUS = 400
"""[INF] the QA suite asserts ``status``/``error`` only; the sandbox answers 400 like the send errors."""
TARGETS_ERROR_CODE = FIELD_INVALID_CODE
"""[INF] no code is documented for targets/*.json; the send API's code for payload problems is reused."""
NAME_EMPTY = "Field name is empty"
WHEN_EMPTY = "Field when is empty"
CONTENT_FIELD_EMPTY = "Field {field} is empty (inside content)"
"""``Field title is empty (inside content)`` (push), ``body`` (sms), ``subject`` (email) [V-QA]."""
WHERE_PARSE_FAILED = "Query specified in where failed to parse"
WHERE_FROM_AFTER_TO = "Query parse failure - The from date cannot be after the to date"
CONTROL_GROUP_UNKNOWN = "No custom control group with name {name} is defined"
ANDROID_CHANNEL_INVALID = "Invalid Notification Channel ID"
PROVIDER_NICK_NAME_INVALID = "InCorrect provider_nick_name!"
PROVIDER_GROUP_INVALID = "InCorrect provider_group_nickname!"
"""[INF] worded like the recorded provider_nick_name text."""
FIELD_EMPTY = "Field {field} is empty"
"""[INF] the recorded ``Field name is empty`` / ``Field when is empty`` pattern, for other required fields."""
FIELD_INVALID = "Field {field} is invalid: {reason}"
"""[INF] same wording as schema violations (``field_message``)."""
SEGMENT_UNKNOWN = "Segment {id} is not defined"
"""[INF] the real text is not recorded."""
CAMPAIGN_UNKNOWN = "Campaign with id {id} does not exist"
"""targets/stop|result.json with an unknown id: "fail" with error details [V-doc stop-campaign-api]; text [INF]."""
CAMPAIGN_NOT_COMPLETED_STATUS = 409
CAMPAIGN_NOT_COMPLETED = "Campaign with id {id} has not completed. Current status: {status}"
"""targets/result.json before the campaign ran: "returns an error indicating its status" [V-doc]; 409 is a
[3P] note; the text is [INF]."""
REQUEST_ID_UNKNOWN = "Invalid request id"
"""An unknown or already used ``req_id`` [3P leanderp/clevertap-mcp, spec §5.4]."""
CAMPAIGN_ID_UNKNOWN = "Invalid campaign_id {id}: no API campaign with this id exists in the dashboard"
CAMPAIGN_ID_OTHER_CHANNEL = "Invalid campaign_id {id}: it is a {channel} campaign"
"""send/*.json with a campaign_id the dashboard did not mint, or one of another channel [INF]; 400, code 78."""

# -- /1/upload (spec §5.3, §8) ---------------------------------------------------------------------
UPLOAD_SKIPPED = "Skipped record number : {n}"
UPLOAD_RECORD_ERRORS: dict[int, str] = {
    509: "Event name is mandatory. ",
    512: "Invalid event structure. ",
    513: "Raised a restricted system event. ",
    514: "Profile data is incorrect. Gender needs to be M/F/O.",
    515: "Profile data is incorrect. Email is not valid.",
    516: "Profile data is incorrect. Phone number is not valid.",
    517: "Profile data is incorrect. Employed needs to be Y/N.",
    518: "Profile data is incorrect. Education needs to be School/College/Graduate..",
    519: "Profile data is incorrect. Married needs to be Y/N.",
    520: "Profile data is incorrect. Age is invalid.",
    522: "Event properties limit exceeded. ",
    523: "Missing identity. ",
    524: "Data neither event nor profile. ",
    525: "Timestamp should be present in the Unix Epoch format. ",
    526: "objectId is invalid. ",
    528: "Discarded event is raised. ",
    530: "Invalid 'objectId'. ",
    531: "Invalid token data. ",
    532: "Token 'id' is not present. ",
    533: "Token 'type' is not present. ",
    534: "Token 'type' is not valid for 'objectId'. ",
    535: "Invalid token data. ",
}
"""Prefixes of ``"<prefix>Skipped record number : N"``. 515-520 and 525 are recorded verbatim [V-rec
tradeo/clevertap-ruby]: no space before ``Skipped`` except 525, a double dot in 518. The others are the
documented meanings [V-doc api-errors] in the 525 style [INF]; 514 accepts M/F/O [INF]."""
UPLOAD_MAX_RECORDS = 1000
"""At most 1000 records per call [V-doc] (spec §4)."""
UPLOAD_TOO_MANY = "Field d is invalid: at most 1000 records per request"
"""[INF] the real answer to a larger batch is not recorded."""

# -- /1/profile.json and /1/counts/*.json (spec §8) ------------------------------------------------
PROFILE_NOT_FOUND_STATUS = 404
PROFILE_NOT_FOUND = "Profile not found"
PROFILE_KEY_MISSING = "Specify one of email, identity or objectId"
"""[INF] neither text is recorded."""

# -- routing errors [INF: CleverTap's 404/405/413/429 bodies are not recorded; spec §5.1 lists statuses]
NOT_FOUND = "Resource not found"
METHOD_NOT_ALLOWED = "Method not allowed"
PAYLOAD_TOO_LARGE = "Payload too large"
TOO_MANY_REQUESTS = "Too many concurrent requests"
"""429 text [V-doc api-request-limit]; the JSON body around it is [INF] (spec §4)."""


class CleverTapFail(SandboxError):
    """A CleverTap failure with its own code and text, raised by CleverTap handlers."""

    kind = "vendor_error"

    def __init__(self, code_and_text: tuple[int, str], status: int = SEND_ERROR_STATUS) -> None:
        code, text = code_and_text
        super().__init__(text, details={"code": code}, status=status)
        self.code = code


def fail(text: str, code: int) -> dict[str, Any]:
    return {"status": "fail", "error": text, "code": code}


def render(error: SandboxError, request: web.Request) -> Reply:
    status, text, code = _wire(error, request.path)
    return Reply(fail(text, code), status)


def _wire(error: SandboxError, path: str) -> tuple[int, str, int]:
    match error:
        case CleverTapFail():
            return error.status, error.message, error.code
        case Unauthorized(reason="account"):
            return AUTH_STATUS, ACCOUNT_INVALID, AUTH_STATUS
        case Unauthorized():
            return AUTH_STATUS, CREDENTIALS_INVALID, AUTH_STATUS
        case InvalidBody():
            return SEND_ERROR_STATUS, JSON_INVALID[1], JSON_INVALID[0]
        case ValidationFailed() if SEND_PATH in path:
            return _validation(min(error.errors, key=_priority))
        case ValidationFailed():
            first = error.errors[0]
            if first.path == ("respect_frequency_caps",):
                return SEND_ERROR_STATUS, FREQUENCY_CAPS_NOT_BOOLEAN[1], FREQUENCY_CAPS_NOT_BOOLEAN[0]
            return SEND_ERROR_STATUS, field_message(first), FIELD_INVALID_CODE
        case NotFound():
            return 404, NOT_FOUND, 404
        case MethodNotAllowed():
            return 405, METHOD_NOT_ALLOWED, 405
        case PayloadTooLarge():
            return 413, PAYLOAD_TOO_LARGE, 413
        case TooManyRequests():
            return 429, TOO_MANY_REQUESTS, 429
        case BadRequest():
            return SEND_ERROR_STATUS, error.message, FIELD_INVALID_CODE
        case _:  # Unexpected and anything else
            return UNEXPECTED_STATUS, UNEXPECTED[1], UNEXPECTED[0]


SEND_PATH = "/1/send/"
"""Codes 21 and 84 are the Message Identity API's (``to``); other operations name the field."""


def _priority(error: FieldError) -> int:
    """CleverTap reports recipients first (21, 84), then the frequency-cap flag (73), then the rest."""
    if error.path[:1] == ("to",) or (not error.path and error.field == "to"):
        return 0
    if error.path == ("respect_frequency_caps",):
        return 1
    return 2


def _validation(error: FieldError) -> tuple[int, str, int]:
    path = error.path
    if not path and error.rule == "required" and error.field == "to":
        return SEND_ERROR_STATUS, TO_MISSING[1], TO_MISSING[0]
    if path[:1] == ("to",):
        return SEND_ERROR_STATUS, RECIPIENTS_INVALID[1], RECIPIENTS_INVALID[0]
    if path == ("respect_frequency_caps",):
        return SEND_ERROR_STATUS, FREQUENCY_CAPS_NOT_BOOLEAN[1], FREQUENCY_CAPS_NOT_BOOLEAN[0]
    return SEND_ERROR_STATUS, field_message(error), FIELD_INVALID_CODE


def field_message(error: FieldError) -> str:
    """Texts in CleverTap's own style where recorded [V-QA spec §6.7], else naming the dotted field."""
    if error.rule == "required" or (error.rule == "minLength" and error.value == ""):
        parent = error.path if error.rule == "required" else error.path[:-1]
        inside = f" (inside {parent[-1]})" if parent and isinstance(parent[-1], str) else ""
        return f"Field {error.field} is empty{inside}"
    where = error.dotted or "body"
    return f"Field {where} is invalid: {error.message}"
