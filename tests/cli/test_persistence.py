"""``--data-dir`` keeps tenant state across restarts: SIGTERM loses nothing, ``kill -9`` at most the last
snapshot interval; one server per data dir; a corrupt snapshot stops the start with one line."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.cli import SCRIPT, start

from sandbox.core.persistence import INTERVAL, STATE_PREFIX

pytestmark = pytest.mark.slow

CT = {"X-CleverTap-Account-Id": "ACC-A", "X-CleverTap-Passcode": "P", "Content-Type": "application/json"}
BZ = {"Authorization": "Bearer KEY-K", "Content-Type": "application/json"}


def call(url: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
         ) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, method=method, data=data,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def serve_args(data_dir: Path) -> list[str]:
    return [SCRIPT, "serve", "--port", "0", "--population-size", "200", "--data-dir", str(data_dir)]


@contextlib.contextmanager
def served(data_dir: Path, stop_with: int = signal.SIGTERM) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A server on ``data_dir`` for the ``with`` block, stopped with ``stop_with`` after it."""
    proc, url = start(serve_args(data_dir))
    try:
        yield proc, url
    finally:
        stop(proc, stop_with)


def observe(url: str) -> dict[str, Any]:
    """What the tests can see of that state."""
    seen: dict[str, Any] = {}
    status, body = call(url, "POST", "/1/targets/list.json", {"from": 20000101, "to": 29991231}, CT)
    seen["campaigns"] = [t["name"] for t in body["targets"]]
    seen["offset"] = round(call(url, "GET", "/_sandbox/clock?tenant=ACC-A")[1]["offset_seconds"])
    _, deliveries = call(url, "GET", "/_sandbox/deliveries?tenant=ACC-A&channel=sms")
    seen["deliveries"] = [d["user"] for d in deliveries["deliveries"]]
    status, body = call(url, "POST", "/messages/schedule/update", {
        "schedule_id": SCHEDULE_ID[0], "schedule": {"time": "2099-12-31T22:00:00Z"}}, BZ)
    seen["schedule_update"] = status
    return seen


SCHEDULE_ID: list[str] = []


def make_state(url: str) -> None:
    """Campaigns, a schedule, a send and a clock move: what a test leaves behind in two tenants."""
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y%m%d %H:%M")
    status, body = call(url, "POST", "/1/targets/create.json", {
        "name": "kept", "target_mode": "push", "where": {}, "devices": ["ios"],
        "content": {"title": "t", "body": "b"}, "when": later, "skip_estimate": True}, CT)
    assert status == 200, body
    status, body = call(url, "POST", "/1/send/sms.json", {"to": {"Identity": ["someone"]},
                                                          "content": {"body": "hi"}}, CT)
    assert status == 200, body
    status, body = call(url, "POST", "/messages/schedule/create", {
        "schedule": {"time": "2099-12-31T23:00:00Z"}, "messages": {"apple_push": {"alert": "hello"}},
        "external_user_ids": ["u1"]}, BZ)
    assert status == 201, body
    SCHEDULE_ID[:] = [body["schedule_id"]]
    status, body = call(url, "POST", "/_sandbox/clock?tenant=ACC-A", {"advance_seconds": 3600})
    assert status == 200, body


def check_state(url: str) -> None:
    assert observe(url) == {"campaigns": ["kept"], "offset": 3600, "deliveries": ["someone"],
                            "schedule_update": 201}
    # The journal is not kept: only this check's own requests are in it.
    _, journal = call(url, "GET", "/_sandbox/requests")
    assert not [r for r in journal["requests"] if r["path"] in ("/1/send/sms.json", "/1/targets/create.json")]


def refused_start(data_dir: Path) -> list[str]:
    """Start a server that must refuse to start: exit code 2 and its stderr lines."""
    second = subprocess.run(serve_args(data_dir), capture_output=True, text=True, timeout=60)
    assert second.returncode == 2, second.stderr
    return second.stderr.strip().splitlines()


def stop(proc: subprocess.Popen[str], sig: int) -> None:
    proc.send_signal(sig)
    proc.wait(timeout=15)


def test_sigterm_then_restart_keeps_tenant_state(tmp_path: Path) -> None:
    with served(tmp_path) as (proc, url):
        make_state(url)
    assert proc.returncode == 0
    with served(tmp_path) as (_, url):
        check_state(url)


def test_kill_9_loses_at_most_the_last_snapshot_interval(tmp_path: Path) -> None:
    with served(tmp_path, stop_with=signal.SIGKILL) as (_, url):
        make_state(url)
        time.sleep(INTERVAL * 2 + 0.5)  # the documented bound: state older than one interval is on disk
    with served(tmp_path) as (_, url):
        check_state(url)


def test_a_second_server_on_a_data_dir_in_use_is_refused_in_one_line(tmp_path: Path) -> None:
    with served(tmp_path) as (proc, _):
        lines = refused_start(tmp_path)
        assert len(lines) == 1 and "in use by campaign-sandbox pid" in lines[0] and str(proc.pid) in lines[0], lines


def test_a_corrupt_snapshot_stops_the_start_with_one_line(tmp_path: Path) -> None:
    with served(tmp_path) as (_, url):
        make_state(url)
    [snapshot] = tmp_path.glob(STATE_PREFIX + "*")
    snapshot.write_bytes(snapshot.read_bytes()[: snapshot.stat().st_size // 2])
    lines = refused_start(tmp_path)
    assert len(lines) == 1 and str(snapshot) in lines[0] and "delete it" in lines[0], lines
