"""Journal entries (``Entry.as_dict()`` shape) -> a HAR 1.2 document, credentials masked unless asked.

Masked (``mask_entry``, also behind ``GET /_sandbox/requests?mask=1``): header values whose name looks like a
credential (authorization, passcode, api key, token, secret, password, cookie), query parameters and JSON/form
body keys named like one at any depth (also in a body that failed to parse), and then every occurrence of a
masked value elsewhere: the entry's tenant (some vendors name the tenant by the API key), the raw body and
the answer (an error that echoes the key).
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
CREDENTIAL_FIELD = re.compile(r"api[-_]?key|passcode|passw(or)?d|secret|token|authorization", re.IGNORECASE)
RAW_CREDENTIAL = re.compile(
    r"""(?P<key>["']?[\w-]*(?:api[-_]?key|passcode|passw(?:or)?d|secret|token)[\w-]*["']?\s*[:=]\s*["']?)"""
    r"""(?P<value>[^"'&,\s}]+)""", re.IGNORECASE)
"""``key: value`` / ``key=value`` pairs in text that is neither JSON nor a form (a body that failed to parse)."""
MIN_ECHOED_SECRET = 4
"""Shorter masked values are not searched for elsewhere (they would mask unrelated text)."""


def mask_value(value: str) -> str:
    """``***`` plus the last 4 characters of long values, so two masked keys stay distinguishable."""
    return "***" + value[-4:] if len(value) > 12 else "***"


def to_har(entries: Iterable[Mapping[str, Any]], *, mask: bool = True) -> dict[str, Any]:
    return {"log": {**har_header(), "entries": [har_entry(e, mask=mask) for e in entries]}}


def har_header() -> dict[str, Any]:
    """The ``log`` members before ``entries`` (streamed exports write them first)."""
    return {"version": "1.2", "creator": {"name": "campaign-sandbox", "version": __version__}}


def mask_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the entry with every credential masked (see the module docstring)."""
    secrets: set[str] = set()
    out = dict(entry)
    headers = {}
    for name, value in (entry.get("headers") or {}).items():
        if CREDENTIAL_HEADER.search(name):
            secrets.update(_secret_parts(value))
            value = mask_value(value)
        headers[name] = value
    out["headers"] = headers
    if entry.get("response_headers"):
        out["response_headers"] = {name: mask_value(value) if CREDENTIAL_HEADER.search(name) else value
                                   for name, value in entry["response_headers"].items()}
    query: dict[str, Any] = {}
    for name, values in (entry.get("query") or {}).items():
        if CREDENTIAL_FIELD.search(name):
            secrets.update(values if isinstance(values, list) else [values])
            values = [mask_value(v) for v in values] if isinstance(values, list) else mask_value(values)
        query[name] = values
    out["query"] = query
    body = entry.get("body")
    if isinstance(body, (dict, list)):
        out["body"] = _masked_tree(body, secrets)
    raw_body = entry.get("raw_body") or ""
    if raw_body:
        out["raw_body"] = _masked_raw(raw_body, out.get("body"), body, _header(entry, "content-type") or "",
                                      secrets)
    echoed = sorted((s for s in secrets if len(s) >= MIN_ECHOED_SECRET), key=len, reverse=True)
    if echoed:
        out["raw_body"] = _scrub(out.get("raw_body") or "", echoed)
        if entry.get("response") is not None:
            out["response"] = _scrub_tree(entry["response"], echoed)
        if entry.get("response_text"):
            out["response_text"] = _scrub(entry["response_text"], echoed)
    if entry.get("tenant") in secrets:
        out["tenant"] = mask_value(entry["tenant"])
    return out


def har_entry(entry: Mapping[str, Any], *, mask: bool = True) -> dict[str, Any]:
    if mask:
        entry = mask_entry(entry)
    headers = [{"name": name, "value": value} for name, value in (entry.get("headers") or {}).items()]
    query = [{"name": name, "value": value}
             for name, values in (entry.get("query") or {}).items()
             for value in (values if isinstance(values, list) else [values])]
    raw_body = entry.get("raw_body") or ""
    content_type = _header(entry, "content-type") or ""
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
    duration = float(entry.get("duration_ms") or 0.0)
    return {
        "startedDateTime": entry.get("received_at"),
        "time": duration,
        "request": request,
        "response": {
            "status": status, "statusText": _reason(status), "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": _response_headers(entry, mime if response_text else None),
            "content": {"size": len(response_text.encode()), "mimeType": mime, "text": response_text},
            "redirectURL": "", "headersSize": -1, "bodySize": len(response_text.encode()),
        },
        "cache": {},
        "timings": {"send": 0, "wait": duration, "receive": 0},
        "_id": entry.get("id"),
        "_vendor": entry.get("vendor"),
        "_operation": entry.get("operation"),
        "_tenant": entry.get("tenant"),
    }


def _secret_parts(value: str) -> set[str]:
    """The value and, for ``Bearer KEY``-style values, the key alone."""
    parts = {value}
    if " " in value:
        parts.add(value.split(" ", 1)[1].strip())
    return parts


def _masked_tree(node: Any, secrets: set[str]) -> Any:
    """``node`` with the values of credential-named keys masked at any depth (iterative: any nesting)."""
    root: list[Any] = [node]
    stack: list[tuple[Any, Any, bool]] = [(root, 0, False)]
    while stack:
        parent, key, masked = stack.pop()
        value = parent[key]
        if isinstance(value, dict):
            copy: Any = dict(value)
            parent[key] = copy
            stack.extend((copy, k, masked or bool(CREDENTIAL_FIELD.search(str(k)))) for k in copy)
        elif isinstance(value, list):
            copy = list(value)
            parent[key] = copy
            stack.extend((copy, i, masked) for i in range(len(copy)))
        elif masked and value is not None and not isinstance(value, bool):
            secrets.add(str(value))
            parent[key] = mask_value(str(value))
    return root[0]


def _masked_raw(raw: str, masked: Any, parsed: Any, content_type: str, secrets: set[str]) -> str:
    if masked == parsed and isinstance(parsed, (dict, list)):
        return raw  # nothing was masked: keep the body exactly as sent
    if isinstance(masked, dict) and "x-www-form-urlencoded" in content_type:
        return urlencode(masked, doseq=True)
    if isinstance(masked, (dict, list)):
        return json.dumps(masked, ensure_ascii=False)

    def hide(found: re.Match[str]) -> str:
        secrets.add(found["value"])
        return found["key"] + mask_value(found["value"])

    return RAW_CREDENTIAL.sub(hide, raw)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, mask_value(secret))
    return text


def _scrub_tree(node: Any, secrets: list[str]) -> Any:
    if isinstance(node, str):
        return _scrub(node, secrets)
    if isinstance(node, dict):
        return {k: _scrub_tree(v, secrets) for k, v in node.items()}
    if isinstance(node, list):
        return [_scrub_tree(v, secrets) for v in node]
    return node


def _response_text(entry: Mapping[str, Any]) -> tuple[str, str]:
    """The answer as sent when known (``response_text``), else the parsed JSON re-encoded."""
    response = entry.get("response")
    text = entry.get("response_text")
    if text is None:
        text = "" if response is None else json.dumps(response, ensure_ascii=False)
    if response is not None:
        return text, "application/json"
    return text, "text/plain" if text else "application/octet-stream"


def _response_headers(entry: Mapping[str, Any], mime: str | None) -> list[dict[str, str]]:
    """The answer's headers as journaled; entries without them (older exports) get the content type alone."""
    kept = entry.get("response_headers")
    if kept:
        return [{"name": name, "value": value} for name, value in kept.items()]
    return [{"name": "Content-Type", "value": mime}] if mime else []


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
