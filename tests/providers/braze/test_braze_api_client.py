"""A real client against a live sandbox: npm ``braze-api`` (braze-community/braze-node), installed into a temp
dir with npm. It sends ``Authorization: Bearer`` + JSON, parses every answer as JSON and turns a non-2xx
into an error built from ``message`` and ``errors`` (spec §14). Skipped only when node or npm is missing."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.braze import IOS, TRIGGERED
from support.http import Api

from sandbox.app import create_app

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                                 reason="node and npm are needed to run the npm braze-api client")]
PACKAGE = "braze-api@2"

SCRIPT = """
const { Braze } = require('braze-api');
const [base, key, triggered] = process.argv.slice(2);
const braze = new Braze(base, key);
(async () => {
  const out = {};
  out.track = await braze.users.track({ attributes: [{ external_id: 'npm-1', first_name: 'Npm', ...%(ios)s }] });
  out.send = await braze.messages.send({ external_user_ids: ['npm-1'],
    messages: { apple_push: { alert: 'Hi {{${first_name}}}' } } });
  out.trigger = await braze.campaigns.trigger.send({ campaign_id: triggered,
    recipients: [{ external_user_id: 'npm-1', trigger_properties: { first_name: 'Trigger' } }] });
  out.segments = await braze.segments.list({});
  try {
    await braze.messages.send({ messages: { apple_push: { alert: 'nobody' } } });
  } catch (error) {
    out.error = { name: error.constructor.name, message: error.message, status: error.status };
  }
  try {
    await braze.users.track({ events: [{ name: 'no-identifier', time: '2026-01-01T00:00:00Z' }] });
  } catch (error) {
    out.trackError = { message: error.message, status: error.status, errors: error.errors };
  }
  console.log(JSON.stringify(out));
})().catch((error) => { console.error(error); process.exit(1); });
"""


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("braze-node")
    subprocess.run(["npm", "init", "-y"], cwd=where, check=True, capture_output=True, timeout=120)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", PACKAGE], cwd=where, check=True,
                   capture_output=True, timeout=300)
    (where / "run.js").write_text(SCRIPT % {"ios": json.dumps(IOS)})
    return where


async def run_client(client_dir: Path, base: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec("node", "run.js", base, "npm-key", TRIGGERED, cwd=client_dir,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    return json.loads(out)


@pytest.mark.parametrize("prefix", ["", "/braze"])
async def test_npm_braze_api_sends_triggers_and_tracks(aiohttp_client, settings, client_dir: Path,
                                                       prefix: str) -> None:
    client = await aiohttp_client(create_app(settings))
    api = Api(client)
    out = await run_client(client_dir, f"http://127.0.0.1:{client.server.port}{prefix}")
    assert out["track"] == {"attributes_processed": 1, "message": "success"}
    assert set(out["send"]) == {"dispatch_id", "message"} and out["send"]["message"] == "success"
    assert set(out["trigger"]) == {"dispatch_id", "message"}
    assert [s["name"] for s in out["segments"]["segments"]] == ["All users", "VIP customers"]
    assert out["error"] == {"name": "ResponseError", "message": "No Recipients", "status": 400}
    assert out["trackError"] == {
        "message": "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.", "status": 400,
        "errors": [{"type": "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required",
                    "input_array": "events", "index": 0}]}
    deliveries = (await api.control("GET", "/deliveries", params={"vendor": "braze", "user": "npm-1"}))["deliveries"]
    assert [d["content"].get("alert") for d in deliveries if d["channel"] == "push"] == ["Hi Npm", "Welcome Trigger!"]
    assert {r["tenant"] for r in await api.requests(vendor="braze")} == {"npm-key"}
