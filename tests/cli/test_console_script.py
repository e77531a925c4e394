"""The installed console script, run as users run it: serve, health, SIGTERM -> exit 0."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import SCRIPT, start

import sandbox
from sandbox.core.resources import data_path
from sandbox.settings import Settings


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, url = start(request.param)
    yield proc, url
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.parametrize("served", [[SCRIPT, "serve", "--port", "0"],
                                    [sys.executable, "-m", "sandbox", "serve", "--port", "0"]],
                         indirect=True, ids=["console-script", "python-m"])
def test_serve_prints_url_and_vendors_and_stops_cleanly_on_sigterm(served) -> None:
    proc, url = served
    health = get_json(url + "/_sandbox/health")
    assert health["status"] == "ok" and "clevertap" in health["vendors"]
    req = urllib.request.Request(url + "/1/send/sms.json", method="POST",
                                 data=b'{"to":{"Identity":["a"]},"content":{"body":"b"}}',
                                 headers={"X-CleverTap-Account-Id": "A", "X-CleverTap-Passcode": "P"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read()) == {"status": "success", "message": "Added to queue for processing"}
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5


def test_settings_come_from_sandbox_env_vars() -> None:
    proc, url = start([SCRIPT, "serve"], env={"SANDBOX_PORT": "0", "SANDBOX_JOURNAL_LIMIT": "7"})
    try:
        assert get_json(url + "/_sandbox/health")["journal"]["limit"] == 7
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_help_explains_every_flag() -> None:
    out = subprocess.run([SCRIPT, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ("--host", "--port", "--seed", "--data-dir", "--log-level", "--accounts", "--fixtures",
                 "--max-body-size", "--journal-limit"):
        assert flag in out
    assert "SANDBOX_PORT" in out and "8080" in out


def test_flag_beats_env_beats_default() -> None:
    env = {"SANDBOX_PORT": "9000", "SANDBOX_SEED": "7"}
    assert Settings.from_sources({"port": "9100"}, env).port == 9100
    assert Settings.from_sources({}, env).seed == 7
    assert Settings.from_sources({}, {}).port == 8080


def test_routes_command_prints_the_operation_table() -> None:
    out = subprocess.run([SCRIPT, "routes"], capture_output=True, text=True, check=True).stdout
    assert re.search(r"clevertap\s+send_push\s+POST\s+/1/send/push.json", out)


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="CI installs the package non-editable")
def test_ci_runs_against_the_installed_package() -> None:
    installed = Path(sandbox.__file__).parent
    assert "site-packages" in installed.parts
    assert data_path("schemas").parent == installed and data_path("fixtures").parent == installed


def test_population_build_then_show_loads_without_rebuilding(tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path), "--population-size", "400", "--seed", "5"]
    built = subprocess.run([SCRIPT, "population", "build", *args], capture_output=True, text=True, check=True)
    assert "400 users, seed 5" in built.stdout and "built in" in built.stdout
    assert "400/400" in built.stderr  # the progress bar
    shown = subprocess.run([SCRIPT, "population", "show", *args], capture_output=True, text=True, check=True)
    assert "loaded in" in shown.stdout
    summary = json.loads(shown.stdout.split("\n", 1)[1])
    assert summary["profiles"] == 400 and set(summary["reachable"]) == {"push", "webpush", "email", "sms",
                                                                         "whatsapp"}
    names = [p.name for p in tmp_path.iterdir()]  # one file per population fingerprint
    assert len(names) == 1 and names[0].startswith("population-"), names
    assert (tmp_path / names[0] / "frame.json").is_file()
