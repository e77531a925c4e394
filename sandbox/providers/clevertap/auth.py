"""CleverTap auth: ``X-CleverTap-Account-Id`` + ``X-CleverTap-Passcode`` on every call (spec §1, §3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.core.errors import Unauthorized

ACCOUNT_HEADER = "X-CleverTap-Account-Id"
PASSCODE_HEADER = "X-CleverTap-Passcode"


def authenticate(headers: Mapping[str, str], accounts: Mapping[str, Any] | None) -> str:
    """Return the account id (the tenant). ``accounts`` maps account id -> passcode; None = any."""
    account = headers.get(ACCOUNT_HEADER, "").strip()
    passcode = headers.get(PASSCODE_HEADER, "").strip()
    if not account or (accounts is not None and account not in accounts):
        raise Unauthorized("account", credential=account or None)
    if not passcode or (accounts is not None and str(accounts[account]) != passcode):
        raise Unauthorized("secret", credential=account)
    return account
