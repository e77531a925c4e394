"""CleverTap's rate limits (spec §4): a concurrency cap per account (= tenant) and API, not a time window.

Exceeded: HTTP 429 with "Too many concurrent requests" (``errors.TOO_MANY_REQUESTS``; the JSON envelope
around it is inferred). Enforced only with ``--rate-limits`` or ``POST /_sandbox/limits``.
"""

from __future__ import annotations

import functools

from sandbox.core.ratelimit import Applied, Limit

UPLOAD = Limit("upload", 15)
"""``/1/upload`` (events, profiles, device tokens): 15 concurrent [V-doc] upload-events-api §4."""
DEFAULT = Limit("default", 3)
"""Every other API: 3 concurrent, counted per API [3P api-evangelist; V-doc old errors page] §4."""
LIMITS: dict[str, Limit] = {UPLOAD.group: UPLOAD, DEFAULT.group: DEFAULT}
UPLOAD_OPERATIONS = frozenset({"upload"})


@functools.cache
def applied(operation: str) -> Applied:
    """Uploads share one cap; every other API (operation) has its own (one object per operation)."""
    return Applied(UPLOAD, UPLOAD.group) if operation in UPLOAD_OPERATIONS else Applied(DEFAULT, operation)
