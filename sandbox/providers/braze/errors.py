"""Every Braze wire string, status and header, each quoting its source (tags, `spec §N`: docs/sources.md).

Braze answers ``{"message": "<text>"}`` (plus ``"errors"`` when there are sub-errors), compact JSON with
``"message"`` as the last key (spec §1). Constants marked [§15] are the spec's best guesses where Braze does
not document a body; [INF] marks our own inference. This module is the only place that turns a
SandboxError into Braze's body, status and headers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson

from sandbox.core.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    InvalidBody,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    SandboxError,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from sandbox.core.operations import Reply

CONTENT_TYPE = "application/json"
"""Response content type, no charset [V-rec] (spec §1)."""
SUCCESS = "success"
"""``{"message": "success"}`` envelope [V-doc errors.md] (spec §1)."""
CREATED = 201
"""Success status of the POST endpoints [V-rec] (spec §1)."""
OK = 200
"""Success status of the GET endpoints [V-rec] (spec §1)."""

# -- headers (spec §1, §4) ------------------------------------------------------------------------
RATE_LIMIT = "X-Ratelimit-Limit"
RATE_REMAINING = "X-Ratelimit-Remaining"
RATE_RESET = "X-Ratelimit-Reset"
"""Header names as recorded (``X-Ratelimit-*``), Reset = epoch seconds of the next window [V-rec] §1/§4."""
RETRY_AFTER = "X-Ratelimit-Retry-After"
RETRY_AFTER_GROUP = "users_track"
"""A 429 from ``/users/track`` replaces the three headers with this one, whole seconds to wait [V-doc-new]
post_user_track page (spec §4)."""
REQUEST_ID = "X-Request-Id"
"""A UUID on every answer [V-rec] (spec §1)."""
CACHE_CONTROL = "Cache-Control"
CACHE_SUCCESS = "max-age=0, private, must-revalidate"
"""Success answers carry this plus a weak ``Etag`` [V-rec] (spec §1)."""
CACHE_ERROR = "no-cache"
"""Error answers [V-rec] (spec §1)."""

# -- auth (spec §3, §15) ---------------------------------------------------------------------------
AUTH_STATUS = 401
INVALID_KEY = "Invalid API key: {key}"
"""Unknown key, echoed as sent [V-rec braze_ruby */unauthorized/*.yml]; a missing key echoes "" [§15]."""
PERMISSION_STATUS = 401
"""[§15] key lacking the endpoint's permission: 401 (the docs' alternative is ``403 Access Denied``)."""
NO_PERMISSION = "You do not have permission to access this resource"
"""[V-doc] transactional page; used for every endpoint [§15]."""

ACCOUNT_INACTIVE_STATUS = 403
ACCOUNT_INACTIVE = "Forbidden"
"""Rate plan without the feature / account inactivated: ``403 Forbidden`` [V-doc] fatal table; text = label
[§15 label rule]."""

# -- routing and parsing (spec §5.2, §5.3, §15) ------------------------------------------------------
GRAPE_INVALID_JSON = ("\nProblem:\n  message body does not match declared format\nResolution:\n  when specifying "
                      "application/json as content-type, you must pass valid application/json in the request's "
                      "'body' ")
"""Invalid JSON body: ``400 {"error": <this>}``, key ``error`` [V-doc live_activity/update.md] (§5.3, §15)."""
UNSUPPORTED_MEDIA_TYPE = "Unsupported Media Type"
"""415 body [§15] (status [V-doc-new] errors page)."""
NOT_FOUND = "Not Found"
"""404 body [§15], JSON so JSON-parsing clients do not crash."""
ACCESS_DENIED_STATUS = 403
ACCESS_DENIED = "Access Denied"
"""Trailing slash such as ``/users/track/`` [V-doc-new] fatal table; text = label [§15 label rule]."""
METHOD_NOT_ALLOWED_STATUS = 405
METHOD_NOT_ALLOWED = "405 Not Allowed"
"""[INF] Grape's default text for a known path with another method (not documented by Braze)."""
PAYLOAD_TOO_LARGE = "Request Entity Too Large"
"""[INF] nginx's 413 reason, as JSON."""
RATE_LIMITED = "Rate limit exceeded"
"""429 body [§15] (invented text; clients read only the status and ``X-RateLimit-Reset``)."""
INTERNAL_ERROR = "Internal Server Error"
"""5XX label [V-doc] fatal table; body [§15 label rule]."""
BAD_REQUEST = "Bad Request"
"""``400 Bad Request``: unparseable ``schedule.time``/``send_at``, ``in_local_time`` already passed
[V-doc] fatal table; text = label [§15 label rule]."""
BAD_REQUEST_STATUS = 400

# -- messaging fatal errors (spec §5.2 labels; texts = labels [§15]) --------------------------------
NO_RECIPIENTS = "No Recipients"
NO_MESSAGE = "No message to send"
INVALID_CAMPAIGN_ID = "Invalid Campaign ID"
"""Used when the campaign exists but is not of the endpoint's kind (e.g. an API-triggered campaign on
``/messages/send``) [INF]; an unknown id gets CAMPAIGN_ID_INVALID [§15]."""
VARIANT_UNSPECIFIED = "Message Variant Unspecified"
INVALID_VARIANT = "Invalid Message Variant"
MISMATCHED_TYPE = "Mismatched Message Type"
INVALID_EXTRA = "Invalid Extra Push Payload"
"""``extra`` not an object; also its reserved keys ``ab``/``aps`` [V-doc apple_object.md] [INF text]."""
APPLE_TOO_LONG = "Apple Push Length Exceeded"
APPLE_MAX_BYTES = 1912
ANDROID_TOO_LONG = "Android Push Length Exceeded"
ANDROID_MAX_BYTES = 4000
MAX_EXTERNAL_IDS = "The max number of external_ids and aliases per request was exceeded"
"""> 50 external ids/aliases on a send; reused for > 50 ``recipients`` [§15, §13]."""
MAX_IDS = "The max number of ids per request was exceeded"
"""> 50 ids on /users/delete, /users/identify, /users/alias/new, /users/export/ids [§15]."""
MAX_INPUT = "Max Input Length Exceeded"
"""/users/track over 75 objects (combined, newest docs) [V-doc] §9.1."""
MAX_PER_REQUEST = 50
MAX_TRACK_OBJECTS = 75
BROADCAST_REQUIRED = "broadcast must be true if recipients are omitted"
"""[§15] invented text for a send without recipients and without ``broadcast: true``."""
BROADCAST_WITH_RECIPIENTS = "cannot specify recipients when broadcast is true"
"""[§15] invented text for ``broadcast: true`` together with recipients."""
CAMPAIGN_ID_INVALID = "campaign_id must be a string of the campaign api identifier"
"""Unknown ``campaign_id`` [§15; V-doc transactional page, 3P braze-docs #1985]."""
CANVAS_ID_INVALID = "canvas_id must be a string of the Canvas api identifier"
"""Unknown ``canvas_id`` [V-rec braze_ruby canvas/details/returns_error_when_no_canvas.yml]."""
SEGMENT_ID_INVALID = "segment_id must be a string of the segment api identifier"
"""[INF] unknown ``segment_id``, worded like the recorded Canvas text."""
SEND_ID_REQUIRES_CAMPAIGN = "send_id requires campaign_id"
"""[3P] developer note (spec §5.4)."""
SUBSCRIPTION_GROUP_INVALID = "Invalid subscription group ID"
"""[V-rec] /subscription/status/set; used for an unknown sms/whats_app ``subscription_group_id`` [INF]."""

# -- notices on success (spec §6.2, §6.3, §15) ----------------------------------------------------
CAMPAIGN_PAUSED = "The campaign is paused. Resume the campaign to ensure trigger requests will take effect."
"""[3P] §6.2 / §15."""
CAMPAIGN_ARCHIVED = ("The campaign is archived. Unarchive the campaign to ensure trigger requests will take "
                     "effect.")
"""[§15] by analogy with the Canvas text."""
CANVAS_PAUSED = "The Canvas is paused. Resume the Canvas to ensure trigger requests will take effect."
CANVAS_ARCHIVED = "The Canvas is archived. Unarchive the Canvas to ensure trigger requests will take effect."
"""[V-doc] post_send_triggered_canvases.md §6.3."""

# -- transactional (spec §6.4, §15: 400 for validation strings) ------------------------------------
TRANSACTIONAL_STATUS = 400
CAMPAIGN_MISSING = "Campaign does not exist"
NOT_TRANSACTIONAL = ("The campaign is not a transactional campaign. Only transactional campaigns may use this "
                     "endpoint")
EXTERNAL_SEND_ID_QUEUED = "The external reference has been queued.  Please retry to obtain send_id."
"""Two spaces after "queued." [V-doc]."""
TRANSACTIONAL_ARCHIVED = ("The campaign is archived. Unarchive the campaign in order for trigger requests to "
                          "take effect.")
TRANSACTIONAL_PAUSED = "The campaign is paused. Resume the campaign in order for trigger requests to take effect."
TRANSACTIONAL_QUEUED = "queued"
"""[§15] invented ``status`` value of the transactional success body."""
EXTERNAL_SEND_ID_PATTERN = r"^[a-zA-Z0-9\-_+/=]+$"
"""[V-doc] §6.4."""

# -- /users/track (spec §5.4, §5.5, §15) -------------------------------------------------------------
TRACK_NOTHING_VALID = "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
"""[3P] rudder-transformer / .NET / Segment tests; 400 when no object is valid [§15]."""
TRACK_IDENTIFIER_REQUIRED = "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"
TRACK_BAD_EMAIL = "The value provided for the 'email' field is not a valid email."
TRACK_BLACKLISTED = "provided external_id is blacklisted and disallowed"
"""[V-doc] post_user_track.md "dummy user" ids."""
TRACK_ONE_PRIMARY = "Only one of 'external_id', 'braze_id' or 'user_alias' may be provided"
"""[INF] no source words this; the docs only say such an object is rejected (spec §9.1)."""
TRACK_EXTERNAL_ID_TOO_LARGE = "EXTERNAL_USER_ID_TOO_LARGE"
"""[V-doc-new] error code for an ``external_id`` over 987 bytes."""
EXTERNAL_ID_MAX_BYTES = 987
BLACKLISTED_EXTERNAL_IDS = frozenset({"", "0", "-1", "n/a", "na", "null", "nil", "none", "undefined", "unknown",
                                      "anonymous", "guest", "not set", "[object object]"})
"""[INF] Braze does not publish its dummy-id list; these are common placeholder values."""


def track_required(name: str) -> str:
    """[INF] a missing event/purchase field, in the style of the recorded ``'quantity' is not valid``."""
    return f"'{name}' is required"


def track_invalid(name: str) -> str:
    """``'quantity' is not valid`` [3P rudder-transformer] (spec §5.5), applied to every field [INF]."""
    return f"'{name}' is not valid"


# -- Grape-style parameter texts [INF: Braze runs Grape; these are Grape's default validator texts] --
def param(path: Sequence[str | int]) -> str:
    """Grape names nested params ``messages[apple_push][alert]``."""
    if not path:
        return "body"
    head, *rest = path
    return str(head) + "".join(f"[{part}]" for part in rest)


def missing(path: Sequence[str | int]) -> str:
    return f"{param(path)} is missing"


def invalid(path: Sequence[str | int]) -> str:
    return f"{param(path)} is invalid"


def bad_value(path: Sequence[str | int]) -> str:
    return f"{param(path)} does not have a valid value"


def exactly_one(paths: Sequence[Sequence[str | int]], present: int) -> str:
    """Grape ``exactly_one_of``: none given -> "... are missing, exactly one parameter must be provided"."""
    names = ", ".join(param(p) for p in paths)
    if present == 0:
        return f"{names} are missing, exactly one parameter must be provided"
    return f"{names} are mutually exclusive"


class BrazeFail(SandboxError):
    """A Braze answer with its own text: ``{"message": text}`` (+ ``errors``), raised by Braze code."""

    kind = "vendor_error"

    def __init__(self, text: str, status: int = BAD_REQUEST_STATUS, *, errors: list[Any] | None = None,
                 key: str = "message") -> None:
        super().__init__(text, status=status, details={"errors": errors} if errors else None)
        self.errors = errors
        self.key = key


def body(text: str, errors: list[Any] | None = None, key: str = "message") -> dict[str, Any]:
    out: dict[str, Any] = {key: text}
    if errors:
        out["errors"] = errors
    return out


def success(fields: dict[str, Any] | None = None, status: int = CREATED, *, after: dict[str, Any] | None = None
            ) -> Reply:
    """A success answer: ``fields``, then ``"message": "success"``, then ``after`` (e.g. ``errors``)."""
    out = dict(fields or {})
    out["message"] = SUCCESS
    out.update(after or {})
    return ok(out, status)


def ok(payload: Any, status: int = CREATED) -> Reply:
    raw = orjson.dumps(payload)
    etag = 'W/"' + hashlib.md5(raw, usedforsecurity=False).hexdigest() + '"'
    return Reply(raw, status, {CACHE_CONTROL: CACHE_SUCCESS, "Etag": etag})


def render(error: SandboxError) -> Reply:
    status, payload = wire(error)
    return Reply(payload, status, {CACHE_CONTROL: CACHE_ERROR})


def wire(error: SandboxError) -> tuple[int, dict[str, Any]]:
    match error:
        case BrazeFail():
            return error.status, body(error.message, error.errors, error.key)
        case Unauthorized(reason="permission"):
            return PERMISSION_STATUS, body(NO_PERMISSION)
        case Unauthorized():
            return AUTH_STATUS, body(INVALID_KEY.format(key=error.credential or ""))
        case Forbidden():
            return ACCESS_DENIED_STATUS, body(ACCESS_DENIED)
        case UnsupportedMediaType():
            return 415, body(UNSUPPORTED_MEDIA_TYPE)
        case InvalidBody():
            return BAD_REQUEST_STATUS, body(GRAPE_INVALID_JSON, key="error")
        case ValidationFailed():
            return BAD_REQUEST_STATUS, body(field_message(error.errors[0]))
        case NotFound():
            return 404, body(NOT_FOUND)
        case MethodNotAllowed():
            return METHOD_NOT_ALLOWED_STATUS, body(METHOD_NOT_ALLOWED)
        case PayloadTooLarge():
            return 413, body(PAYLOAD_TOO_LARGE)
        case TooManyRequests():
            return 429, body(RATE_LIMITED)
        case BadRequest():
            return BAD_REQUEST_STATUS, body(error.message or BAD_REQUEST)
        case _:
            return 500, body(INTERNAL_ERROR)


def field_message(error: FieldError) -> str:
    """A schema violation in Grape's words [INF]: missing, wrong type, or a value outside the enum."""
    if error.rule == "required":
        return missing((*error.path, error.field))
    if error.rule in ("enum", "const", "minimum", "maximum", "minLength", "maxLength", "pattern", "minItems",
                      "maxItems", "exclusiveMinimum", "exclusiveMaximum", "format"):
        return bad_value(error.path)
    return invalid(error.path)
