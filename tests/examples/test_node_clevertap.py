"""examples/node/campaign.js: the npm ``clevertap`` client, pointed at the sandbox through api.apiEndpoint.

Installs the package into a temporary directory with npm; skipped only when node or npm is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "node" / "campaign.js"
CLEVERTAP_NPM = "clevertap@1.3.0"

pytestmark = pytest.mark.skipif(not (shutil.which("node") and shutil.which("npm")), reason="node/npm not installed")


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("npm")
    subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
                    CLEVERTAP_NPM], check=True, capture_output=True, text=True, timeout=300)
    return prefix / "node_modules"


def test_npm_clevertap_client_reaches_the_sandbox(node_modules: Path, sandbox, clevertap_credentials) -> None:
    env = {**os.environ, "NODE_PATH": str(node_modules), "SANDBOX_URL": clevertap_credentials["base_url"],
           "CLEVERTAP_ACCOUNT_ID": clevertap_credentials["account_id"],
           "CLEVERTAP_PASSCODE": clevertap_credentials["passcode"]}
    run = subprocess.run(["node", str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    printed: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    campaign, upload = sandbox.requests()
    # The client sent CleverTap's auth headers and paths; the sandbox journaled them under this test's tenant.
    assert (campaign["method"], campaign["path"], campaign["tenant"]) == (
        "POST", "/1/targets/create.json", clevertap_credentials["account_id"])
    assert campaign["headers"]["X-CleverTap-Passcode"] == clevertap_credentials["passcode"]
    assert campaign["body"]["name"] == "green freedom" and campaign["body"]["when"] == "now"
    assert (upload["path"], upload["body"]["d"][0]["evtName"]) == ("/1/upload", "Charged")
    # ...and the client parsed exactly what the sandbox answered.
    assert printed["campaign"] == campaign["response"]
    assert printed["upload"] == upload["response"]
    served = {r["operation"] for r in sandbox.call("GET", "/_sandbox/routes")["routes"]}
    for entry in (campaign, upload):
        if entry["operation"] in served:
            assert entry["status"] == 200, entry
            assert entry["response"]["status"] == "success", entry["response"]
        else:  # not implemented by the sandbox yet: a CleverTap-shaped 404, journaled
            assert entry["status"] == 404 and entry["vendor"] == "clevertap"
