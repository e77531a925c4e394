"""Webhook campaigns (``target_mode: "webhook"``): CleverTap POSTs the targeted profiles to the endpoint
named by ``webhook_endpoint_name``.

Endpoints are account data: ``"webhooks": {"<name>": {"url", "method"?, "headers"?}}`` in
``clevertap/account.json`` (``--fixtures DIR``), or added at run time for one tenant with
``POST /_sandbox/vendors/clevertap/webhooks`` ``{"name", "url", "method"?, "headers"?}``. A name neither
knows is not called (the outbound log says why). The payload follows the documented sample
``{"targetId", "key_values", "profiles": [{"Identity", "Email", "push_token", ...}]}`` [V-doc
docs.clevertap.com/docs/setup-webhooks]; which profile fields go out follows ``webhook_fields``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sandbox.core.fixture_files import FixtureError, load_fixture
from sandbox.core.tenants import TenantState
from sandbox.providers.clevertap.account import ACCOUNT_FILE

if TYPE_CHECKING:
    from sandbox.providers.clevertap import CleverTap
    from sandbox.providers.clevertap.state import Campaign

TIMEOUT_SECONDS = 3.0
""""CleverTap sends the request and waits for three seconds for a response" [V-doc setup-webhooks]."""
BATCH_SIZE = 1000
"""[INF] profiles per call (the docs show a batch, not its limit)."""
METHODS = ("POST", "GET", "PUT", "DELETE")
"""Webhook template methods [V-doc setup-webhooks]."""
OPERATION = "webhook_campaign"


class Endpoints:
    """Named webhook endpoints: a tenant's run-time additions, then those for every tenant, then the
    account file's."""

    def __init__(self) -> None:
        self.account: dict[str, dict[str, Any]] = {}
        self.everyone: dict[str, dict[str, Any]] = {}
        self.added: TenantState[dict[str, dict[str, Any]]] = TenantState(lambda _: {})

    def load(self, provider: CleverTap) -> None:
        document, path = load_fixture(provider.settings, ACCOUNT_FILE)  # packaged + overlay, merged
        raw = (document.get("webhooks") if isinstance(document, dict) else None) or {}
        if not isinstance(raw, dict):
            raise FixtureError(f"{path}: $.webhooks must be an object of name -> {{url, method, headers}}")
        self.account = {str(name): endpoint(item, f"{path}: $.webhooks.{name}") for name, item in raw.items()}

    def add(self, item: Any, tenant: str | None) -> dict[str, Any]:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item["name"]:
            raise ValueError('a CleverTap webhook endpoint is {"name", "url", "method"?, "headers"?}')
        found = endpoint(item, "webhook")
        (self.added[tenant] if tenant else self.everyone)[item["name"]] = found
        return {"name": item["name"], **found}

    def get(self, tenant: str | None, name: str) -> dict[str, Any] | None:
        added = self.added.get(tenant) if tenant else None
        return (added or {}).get(name) or self.everyone.get(name) or self.account.get(name)

    def listed(self, tenant: str | None) -> list[dict[str, Any]]:
        merged = {**self.account, **self.everyone, **((self.added.get(tenant) or {}) if tenant else {})}
        return [{"name": name, **found} for name, found in merged.items()]

    def remove(self, name: str, tenant: str | None) -> bool:
        return (self.added[tenant] if tenant else self.everyone).pop(name, None) is not None

    def reset(self, tenant: str | None) -> None:
        self.added.reset(tenant)
        if tenant is None:
            self.everyone.clear()


def endpoint(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, Mapping) or not isinstance(item.get("url"), str):
        raise ValueError(f"{where}: needs a url")
    method = str(item.get("method", "POST")).upper()
    if method not in METHODS:
        raise ValueError(f"{where}: method must be one of {', '.join(METHODS)}")
    headers = item.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise ValueError(f"{where}: headers must be an object")
    return {"url": item["url"], "method": method, "headers": {str(k): str(v) for k, v in headers.items()}}


def profile_fields(profile: Mapping[str, Any] | None, identity: str, fields: list[str],
                   token: str | None) -> dict[str, Any]:
    """One entry of ``profiles``: identities always (the sample's ``Identity``/``Email``), then what
    ``webhook_fields`` asks for."""
    profile = profile or {}
    out: dict[str, Any] = {"Identity": identity, "Email": profile.get("email")}
    if "identities" in fields:
        out.update({"objectId": profile.get("objectId"), "Phone": profile.get("phone")})
    if "profile-attributes" in fields:
        out.update({"Name": profile.get("name"), "Gender": profile.get("gender"), "City": profile.get("city"),
                    "Customer Type": profile.get("customer_type"), **(profile.get("properties") or {})})
    if not fields or "tokens" in fields:
        out["push_token"] = token
    return {k: v for k, v in out.items() if v is not None}


def fire(provider: CleverTap, tenant: str | None, campaign: Campaign) -> None:
    """After a webhook campaign ran: its recipients, in batches, to the named endpoint."""
    if campaign.target_mode != "webhook":
        return
    services = provider.services
    body = campaign.body
    name = str(body.get("webhook_endpoint_name"))
    found = provider.webhook_endpoints.get(tenant, name)
    sent = services.deliveries.query({"vendor": "clevertap", "tenant": tenant, "campaign_id": str(campaign.id)})
    fields = [str(f) for f in body.get("webhook_fields") or ()]
    profiles = []
    for delivery in sent:
        profile = services.audience.find(delivery.user, tenant=tenant) if delivery.user else None
        token = _token(profile)
        profiles.append(profile_fields(profile, str(delivery.user), fields, token))
    key_values = body.get("webhook_key_value") if isinstance(body.get("webhook_key_value"), dict) else {}
    target = found or {"url": "", "method": "POST", "headers": {}}
    refuse = None if found else (f"no webhook endpoint named {name!r} in the account data (clevertap/account.json "
                                 "$.webhooks or POST /_sandbox/vendors/clevertap/webhooks)")
    for start in range(0, max(len(profiles), 1), BATCH_SIZE):
        payload = {"targetId": campaign.id, "key_values": key_values, "profiles": profiles[start:start + BATCH_SIZE]}
        services.webhooks.send(tenant=tenant, vendor="clevertap", operation=OPERATION, url=target["url"],
                               method=target["method"], headers=target["headers"], body=payload,
                               label=f"campaign {campaign.id}", timeout=TIMEOUT_SECONDS, refuse=refuse)


def _token(profile: Mapping[str, Any] | None) -> str | None:
    devices = [d for d in (profile or {}).get("devices") or () if d.get("platform") in ("android", "ios")]
    return max(devices, key=lambda d: d.get("last_active") or 0).get("token") if devices else None
