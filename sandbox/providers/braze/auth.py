"""Braze auth: ``Authorization: Bearer <key>``, or the legacy ``api_key`` in the query or JSON body (spec §1, §3).

The ``--accounts`` section is ``{"<key>": {"workspace": "<name>", "permissions": ["messages.send", ...],
"active": true}}``;
without one any non-empty key is valid, is its own workspace and has every permission. The workspace is
the tenant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from sandbox.core.errors import Unauthorized
from sandbox.providers.braze import errors
from sandbox.providers.braze.errors import BrazeFail

HEADER = "Authorization"
SCHEME = "Bearer "
LEGACY_FIELD = "api_key"
"""Legacy key in the JSON body or query [V-doc-old post_send_messages.md; V-code PyPI braze-client]."""
FORBIDDEN_KEY_CHARACTERS = ('"', "'", " ")
"""A quoted or malformed key is invalid [V-doc] fatal table "401 Unauthorized"."""


@dataclass(frozen=True, slots=True)
class Account:
    workspace: str
    permissions: frozenset[str] | None
    """None = every permission."""
    active: bool = True
    """False: the account is inactivated -> ``403 Forbidden`` [V-doc] fatal table."""


def parse_accounts(section: Mapping[str, Any] | None) -> dict[str, Account] | None:
    """Validate the accounts section; a bad one stops startup naming the key and the problem."""
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise ValueError('accounts file: the "braze" section must map API keys to {"workspace", "permissions"}')
    accounts = {}
    for key, value in section.items():
        where = f'accounts file: $.braze["{key}"]'
        if not isinstance(value, Mapping):
            raise ValueError(f'{where}: expected {{"workspace": "...", "permissions": [...]}}')
        workspace = value.get("workspace", key)
        permissions = value.get("permissions")
        if not isinstance(workspace, str) or not workspace:
            raise ValueError(f"{where}.workspace: expected a non-empty string")
        if permissions is not None and (not isinstance(permissions, list)
                                        or not all(isinstance(p, str) for p in permissions)):
            raise ValueError(f"{where}.permissions: expected a list of permission names")
        active = value.get("active", True)
        if not isinstance(active, bool):
            raise ValueError(f"{where}.active: expected true or false")
        accounts[key] = Account(workspace, None if permissions is None else frozenset(permissions), active)
    return accounts


def header_key(request: web.Request) -> str | None:
    """The key of a ``Bearer`` header or of the ``api_key`` query parameter, else None."""
    header = request.headers.get(HEADER)
    if header is not None and header.startswith(SCHEME):
        return header[len(SCHEME):].strip()
    legacy = request.query.get(LEGACY_FIELD)
    return legacy if legacy is not None else None


def body_key(raw: bytes) -> str | None:
    """The legacy ``api_key`` of a JSON body, tolerating bodies that are not JSON objects."""
    if b"api_key" not in raw:
        return None
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    value = parsed.get(LEGACY_FIELD) if isinstance(parsed, dict) else None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def authenticate(key: str | None, accounts: Mapping[str, Account] | None) -> Account:
    """The key's account; Unauthorized("key") echoing the key as sent when it is missing or unknown."""
    if not key or any(c in key for c in FORBIDDEN_KEY_CHARACTERS):
        raise Unauthorized("key", credential=key or "")
    if accounts is None:
        return Account(key, None)
    account = accounts.get(key)
    if account is None:
        raise Unauthorized("key", credential=key)
    return account


def authorize(account: Account, permission: str) -> None:
    if not account.active:
        raise BrazeFail(errors.ACCOUNT_INACTIVE, errors.ACCOUNT_INACTIVE_STATUS)
    if account.permissions is not None and permission not in account.permissions:
        raise Unauthorized("permission", credential=None)
