"""Netcore auth, one rule per family; the tenant is the API key (the ``clientid`` for v3).

- gen-1 ``/campaign/*``: ``Authorization: <API key>``, ``Bearer`` optional [V-doc §1, INF lenient].
- v3: ``apikey`` + ``clientid`` in the JSON body [V-doc §2].
- v4: ``api-key`` header [V-doc §4.2].
- apiv2: ``apikey`` in the query or the form body [V-doc + 3P §6.1].
- activity upload: ``Authorization: Bearer <key>`` or ``api-key`` [V-doc §6.3].

``accounts`` (the ``netcore`` section of ``--accounts``) maps each valid API key to its clientid (or null
for any clientid); None accepts any non-empty credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from sandbox.core.errors import Unauthorized
from sandbox.core.pipeline import parse_form

AUTHORIZATION = "Authorization"
API_KEY_HEADER = "api-key"
BEARER = "bearer"


def bearer(value: str) -> str:
    """The key of an ``Authorization`` value, ``Bearer`` or not (a lone ``Bearer`` carries none)."""
    parts = value.split(None, 1)
    if parts and parts[0].lower() == BEARER:
        return parts[1].strip() if len(parts) > 1 else ""
    return value.strip()


def header_key(headers: Mapping[str, str]) -> str:
    """The key of ``Authorization`` (with or without Bearer) or, failing that, ``api-key``."""
    return bearer(headers.get(AUTHORIZATION, "")) or headers.get(API_KEY_HEADER, "").strip()


def apiv2_key(query: Mapping[str, str], raw: bytes) -> str:
    key = query.get("apikey", "").strip()
    if key or not raw:
        return key
    try:
        return str(parse_form(raw).get("apikey", "")).strip()
    except Exception:  # an unreadable form carries no key
        return ""


def v3_credentials(raw: bytes) -> tuple[str, str] | None:
    """(apikey, clientid) from a v3 body, or None when the body is not a JSON object (parsing reports it)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    key, client = body.get("apikey"), body.get("clientid")
    key = key.strip() if isinstance(key, str) else ""
    client = str(client) if isinstance(client, int | str) and not isinstance(client, bool) else ""
    return key, client.strip()


def check_key(key: str, accounts: Mapping[str, Any] | None, *, missing: str = "key") -> str:
    if not key:
        raise Unauthorized(missing)
    if accounts is not None and key not in accounts:
        raise Unauthorized("key", credential=key)
    return key


def check_client(key: str, client: str, accounts: Mapping[str, Any] | None) -> str:
    check_key(key, accounts)
    if not client:
        raise Unauthorized("client", credential=key)
    expected = accounts.get(key) if accounts is not None else None
    if expected is not None and str(expected) != client:
        raise Unauthorized("client", credential=key)
    return client
