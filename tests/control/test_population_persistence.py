"""With ``--data-dir`` a tenant's population writes survive a restart (the state snapshot carries the
audience service's overlays) and stay that tenant's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.http import clevertap_headers

from sandbox.app import create_app
from sandbox.settings import Settings


async def test_a_tenants_uploads_survive_a_restart(aiohttp_client: Any, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, population_size=200)
    headers = clevertap_headers("ACC-A")
    client = await aiohttp_client(create_app(settings))
    record = {"identity": "kept-1", "type": "profile", "profileData": {"Customer Type": "Diamond"}}
    resp = await client.post("/1/upload", json={"d": [record]}, headers=headers)
    assert resp.status == 200, await resp.text()
    await client.close()

    client = await aiohttp_client(create_app(settings))
    resp = await client.get("/_sandbox/profiles/kept-1", params={"tenant": "ACC-A"})
    assert resp.status == 200 and (await resp.json())["customer_type"] == "Diamond"
    resp = await client.get("/_sandbox/profiles/kept-1", params={"tenant": "ACC-B"})
    assert resp.status == 404
    resp = await client.post("/1/counts/profiles.json", headers=headers, json={
        "common_profile_properties": {"profile_fields": [
            {"name": "Customer Type", "operator": "equals", "value": "Diamond"}]}})
    assert (await resp.json())["count"] == 1
