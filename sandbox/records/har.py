"""Journal entries (``Entry.as_dict()`` shape) -> a HAR 1.2 document, credentials masked unless asked.

Masked: header values whose name looks like a credential (authorization, passcode, api key, token, secret,
password, cookie), query parameters and top-level JSON/form body keys named like one, and the entry's
tenant when it equals a masked value (some vendors name the tenant by the API key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from sandbox import __version__

CREDENTIAL_HEADER = re.compile(r"auth|passcode|api[-_]?key|token|secret|password|cookie", re.IGNORECASE)
CREDENTIAL_FIELD = re.compile(r"^(api[-_]?key|apikey|passcode|password|secret|access[-_]?token)$", re.IGNORECASE)


def mask_value(value: str) -> str:
    """``***`` plus the last 4 characters of long values, so two masked keys stay distinguishable."""
    return "***" + value[-4:] if len(value) > 12 else "***"


def to_har(entries: Iterable[Mapping[str, Any]], *, mask: bool = True) -> dict[str, Any]:
    return {"log": {
        "version": "1.2",
        "creator": {"name": "campaign-sandbox", "version": __version__},
        "entries": [har_entry(e, mask=mask) for e in entries],
    }}


def har_entry(entry: Mapping[str, Any], *, mask: bool = True) -> dict[str, Any]:
    secrets: set[str] = set()
    headers = []
    for name, value in (entry.get("headers") or {}).items():
        if mask and CREDENTIAL_HEADER.search(name):
            secrets.update(_secret_parts(value))
            value = mask_value(value)
        headers.append({"name": name, "value": value})
    query = []
    for name, values in (entry.get("query") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            if mask and CREDENTIAL_FIELD.match(name):
                secrets.add(value)
                value = mask_value(value)
            query.append({"name": name, "value": value})
    raw_body = entry.get("raw_body") or ""
    content_type = _header(entry, "content-type") or ""
    if mask and raw_body:
        raw_body = _masked_body(raw_body, entry.get("body"), content_type, secrets)
    host = _header(entry, "host") or "localhost"
    url = f"http://{host}{entry.get('path', '/')}"
    if query:
        url += "?" + urlencode([(q["name"], q["value"]) for q in query])
    request: dict[str, Any] = {
        "method": entry.get("method", "GET"), "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": headers, "queryString": query, "headersSize": -1, "bodySize": len(raw_body.encode()),
    }
    if raw_body:
        request["postData"] = {"mimeType": content_type, "text": raw_body}
    response_text, mime = _response_text(entry)
    status = int(entry.get("status") or 0)
    tenant = entry.get("tenant")
    duration = float(entry.get("duration_ms") or 0.0)
    return {
        "startedDateTime": entry.get("received_at"),
        "time": duration,
        "request": request,
        "response": {
            "status": status, "statusText": _reason(status), "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": [{"name": "Content-Type", "value": mime}] if response_text else [],
            "content": {"size": len(response_text.encode()), "mimeType": mime, "text": response_text},
            "redirectURL": "", "headersSize": -1, "bodySize": len(response_text.encode()),
        },
        "cache": {},
        "timings": {"send": 0, "wait": duration, "receive": 0},
        "_id": entry.get("id"),
        "_vendor": entry.get("vendor"),
        "_operation": entry.get("operation"),
        "_tenant": mask_value(tenant) if mask and tenant in secrets else tenant,
    }


def _secret_parts(value: str) -> set[str]:
    """The value and, for ``Bearer KEY``-style values, the key alone."""
    parts = {value}
    if " " in value:
        parts.add(value.split(" ", 1)[1].strip())
    return parts


def _masked_body(raw: str, parsed: Any, content_type: str, secrets: set[str]) -> str:
    if isinstance(parsed, dict) and any(CREDENTIAL_FIELD.match(str(k)) for k in parsed):
        masked = {}
        for key, value in parsed.items():
            if CREDENTIAL_FIELD.match(str(key)) and isinstance(value, str):
                secrets.add(value)
                value = mask_value(value)
            masked[key] = value
        if "x-www-form-urlencoded" in content_type:
            return urlencode(masked)
        return json.dumps(masked, ensure_ascii=False)
    return raw


def _response_text(entry: Mapping[str, Any]) -> tuple[str, str]:
    """The answer as sent when known (``response_text``), else the parsed JSON re-encoded."""
    response = entry.get("response")
    text = entry.get("response_text")
    if text is None:
        text = "" if response is None else json.dumps(response, ensure_ascii=False)
    if response is not None:
        return text, "application/json"
    return text, "text/plain" if text else "application/octet-stream"


def _header(entry: Mapping[str, Any], name: str) -> str | None:
    for key, value in (entry.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
