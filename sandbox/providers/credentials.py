"""Per-vendor credential fixtures of the pytest plugin: each names the test's tenant.

Registered by ``sandbox.pytest_plugin`` (core code stays free of vendor names). Tenants: CleverTap = the
account id; Braze = the API key's workspace, which is the key itself without an accounts file; Netcore =
the API key (and the ``clientid`` of v3 calls).
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def clevertap_credentials(sandbox_url: str, sandbox_tenant: str) -> dict[str, Any]:
    """CleverTap account id (= this test's tenant), passcode, base URL and the two auth headers."""
    passcode = "sandbox-passcode"
    return {"account_id": sandbox_tenant, "passcode": passcode, "base_url": sandbox_url,
            "api_endpoint": sandbox_url + "/1",
            "headers": {"X-CleverTap-Account-Id": sandbox_tenant, "X-CleverTap-Passcode": passcode,
                        "Content-Type": "application/json"}}


@pytest.fixture
def braze_credentials(sandbox_url: str, sandbox_tenant: str) -> dict[str, Any]:
    """Braze REST API key (= this test's tenant: a key is its own workspace without an accounts file)."""
    return {"api_key": sandbox_tenant, "rest_endpoint": sandbox_url, "base_url": sandbox_url,
            "headers": {"Authorization": f"Bearer {sandbox_tenant}", "Content-Type": "application/json"}}


@pytest.fixture
def netcore_credentials(sandbox_url: str, sandbox_tenant: str) -> dict[str, Any]:
    """Netcore API key and client id (both = this test's tenant) and base URL."""
    return {"api_key": sandbox_tenant, "client_id": sandbox_tenant, "base_url": sandbox_url,
            "headers": {"api-key": sandbox_tenant, "Content-Type": "application/json"}}
