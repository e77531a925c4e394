"""The pytest plugin, exercised through inner pytest sessions (``pytester``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.client import SandboxClient

SMALL = ("--sandbox-population-size=200",)

SENDER = '''
import json, urllib.request, urllib.error

def send(creds, path, body, **headers):
    request = urllib.request.Request(creds["base_url"] + path, data=json.dumps(body).encode(),
                                     headers={**creds["headers"], **headers}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")

PUSH = {"to": {"Identity": ["JohnDoe"]}, "content": {"title": "Hi", "body": "There"}}
'''

ISOLATION = '''
import pytest
from sender import send, PUSH

@pytest.mark.parametrize("n", range(4))
def test_isolated(n, sandbox, clevertap_credentials, sandbox_tenant):
    assert clevertap_credentials["account_id"] == sandbox_tenant == sandbox.tenant
    assert sandbox.requests() == []
    for _ in range(n + 1):
        assert send(clevertap_credentials, "/1/send/push.json", PUSH)[0] == 200
    found = sandbox.assert_request_made("clevertap", "send_push", count=n + 1)
    assert {e["tenant"] for e in found} == {sandbox_tenant}
'''


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(sender=SENDER)
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def test_each_test_gets_a_fresh_tenant_and_the_in_process_sandbox_is_reset(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner=ISOLATION + '''
def test_fixed_credentials_first(sandbox_url):
    creds = {"base_url": sandbox_url, "headers": {"X-CleverTap-Account-Id": "SHARED",
             "X-CleverTap-Passcode": "p", "Content-Type": "application/json"}}
    assert send(creds, "/1/send/push.json", PUSH)[0] == 200

def test_fixed_credentials_second(sandbox):
    assert sandbox.unscoped().requests() == []
''')
    result = project.runpytest(*SMALL)
    result.assert_outcomes(passed=6)


def test_failing_assertion_shows_the_near_miss_the_request_table_and_writes_a_har(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner='''
from sender import send, PUSH

def test_wrong_title(sandbox, clevertap_credentials):
    send(clevertap_credentials, "/1/send/push.json", {**PUSH, "content": {"title": "Hello", "body": "x"}})
    send(clevertap_credentials, "/1/send/sms.json", {"to": {"Identity": ["a"]}})
    sandbox.assert_request_made("clevertap", "send_push", body={"content": {"title": "Hi"}})

def test_passes(sandbox, clevertap_credentials):
    send(clevertap_credentials, "/1/send/push.json", PUSH)
''')
    har_dir = project.path / "har"
    result = project.runpytest(*SMALL, f"--sandbox-har={har_dir}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.re_match_lines([
        r"E\s+AssertionError: Expected at least one request matching vendor='clevertap', operation='send_push', "
        r"body=\{'content': \{'title': 'Hi'\}\}, found none\.",
        r"E\s+2 request\(s\) recorded for tenant 'sbx-[0-9a-f]{16}'; closest:",
        r"E\s+#1 POST /1/send/push\.json  clevertap/send_push -> 200",
        r"E\s+body\.content\.title: expected 'Hi', got 'Hello'",
        r"E\s+#2 POST /1/send/sms\.json  clevertap/send_sms -> 400",
        r"E\s+operation: expected 'send_push', got 'send_sms'",
        r"E\s+body\.content: missing \(expected \{'title': 'Hi'\}\)",
    ])
    result.stdout.re_match_lines([
        r"-+ campaign-sandbox requests -+",
        r"#\s+METHOD\s+PATH\s+VENDOR/OPERATION\s+STATUS\s+TENANT",
        r"1\s+POST\s+/1/send/push\.json\s+clevertap/send_push\s+200\s+sbx-[0-9a-f]{16}",
        r"2\s+POST\s+/1/send/sms\.json\s+clevertap/send_sms\s+400\s+sbx-[0-9a-f]{16}",
        r"-+ campaign-sandbox inspector -+",
        r"http://127\.0\.0\.1:\d+/_sandbox/ui$",
    ])
    [har_file] = har_dir.iterdir()
    assert har_file.name == "test_inner.py_test_wrong_title.har"
    har = json.loads(har_file.read_text())
    assert har["log"]["version"] == "1.2"
    assert [e["request"]["url"].split("/", 3)[3] for e in har["log"]["entries"]] == [
        "1/send/push.json", "1/send/sms.json"]
    for entry in har["log"]["entries"]:
        headers = {h["name"].lower(): h["value"] for h in entry["request"]["headers"]}
        assert headers["x-clevertap-passcode"] == "***code"


def test_an_unexpected_server_exception_fails_the_test_with_its_traceback(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner='''
from sandbox.providers.clevertap import CleverTap
from sender import send, PUSH

def boom(self, call):
    raise RuntimeError("kaboom in the sandbox")

def test_server_breaks(sandbox, clevertap_credentials, monkeypatch):
    monkeypatch.setattr(CleverTap, "check", boom)
    status, _ = send(clevertap_credentials, "/1/send/push.json", PUSH)
    assert status == 500

def test_after_is_clean(sandbox, clevertap_credentials):
    assert send(clevertap_credentials, "/1/send/push.json", PUSH)[0] == 200
''')
    result = project.runpytest(*SMALL)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*the sandbox raised an unexpected exception while answering this test's requests:",
        "*request #1 (clevertap/send_push): RuntimeError('kaboom in the sandbox')",
        "*Traceback (most recent call last):",
        "*RuntimeError: kaboom in the sandbox",
    ])


def test_a_test_failing_on_its_own_also_gets_the_server_traceback(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner='''
from sandbox.providers.clevertap import CleverTap
from sender import send, PUSH

def boom(self, call):
    raise KeyError("missing-thing")

def test_server_breaks(sandbox, clevertap_credentials, monkeypatch):
    monkeypatch.setattr(CleverTap, "check", boom)
    assert send(clevertap_credentials, "/1/send/push.json", PUSH)[0] == 200
''')
    result = project.runpytest(*SMALL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*- Captured campaign-sandbox server errors call -*",
                                 "request #1 (clevertap/send_push): KeyError('missing-thing')", "Traceback*"])


def test_options_and_ini_reach_the_in_process_settings(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nsandbox_seed = 7\n"
                    "sandbox_population_size = 150\n")
    project.makepyfile(test_inner='''
def test_settings(sandbox_settings, sandbox_server):
    assert (sandbox_settings.seed, sandbox_settings.population_size) == (11, 150)
    assert sandbox_server.app is not None and not sandbox_server.external
    assert sandbox_server.url.startswith("http://127.0.0.1:")
''')
    project.runpytest("--sandbox-seed=11").assert_outcomes(passed=1)


def test_credentials_fixtures_name_the_tenant(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner='''
def test_credentials(sandbox_tenant, sandbox_url, clevertap_credentials, braze_credentials, netcore_credentials):
    assert clevertap_credentials["account_id"] == sandbox_tenant
    assert clevertap_credentials["api_endpoint"] == sandbox_url + "/1"
    assert clevertap_credentials["headers"]["X-CleverTap-Account-Id"] == sandbox_tenant
    assert braze_credentials["api_key"] == sandbox_tenant
    assert braze_credentials["headers"]["Authorization"] == "Bearer " + sandbox_tenant
    assert braze_credentials["rest_endpoint"] == sandbox_url
    assert netcore_credentials["api_key"] == netcore_credentials["client_id"] == sandbox_tenant
''')
    project.runpytest(*SMALL).assert_outcomes(passed=1)


def test_async_fixture_for_pytest_aiohttp_users(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner='''
HEADERS = {"X-CleverTap-Account-Id": "A", "X-CleverTap-Passcode": "P"}

async def test_app_under_aiohttp_client(sandbox_aiohttp):
    resp = await sandbox_aiohttp.post("/1/send/sms.json", json={"to": {"Identity": ["x"]},
                                      "content": {"body": "b"}}, headers=HEADERS)
    assert resp.status == 200
    journal = await (await sandbox_aiohttp.get("/_sandbox/requests")).json()
    assert [e["operation"] for e in journal["requests"]] == ["send_sms"]
''')
    project.runpytest(*SMALL).assert_outcomes(passed=1)


def test_xdist_workers_each_get_their_own_sandbox(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner=ISOLATION + '''
def test_worker_server(sandbox_server, worker_id):
    assert worker_id.startswith("gw") and not sandbox_server.external
''')
    result = project.runpytest_subprocess("-p", "xdist", "-n", "2", *SMALL)
    result.assert_outcomes(passed=5)


def test_xdist_workers_share_one_data_dir(project: pytest.Pytester, tmp_path: Path) -> None:
    """One worker builds the population into the shared data dir, the others wait and load it; each keeps its
    own tenant state (and server lock) under ``workers/<id>``."""
    data_dir = tmp_path / "shared-data"
    project.makepyfile(test_inner=ISOLATION + '''
def test_worker_state_dir(sandbox_settings, worker_id):
    assert sandbox_settings.state_dir == sandbox_settings.data_dir / "workers" / worker_id
''')
    result = project.runpytest_subprocess("-p", "xdist", "-n", "2", *SMALL, f"--sandbox-data-dir={data_dir}")
    result.assert_outcomes(passed=5)
    assert {p.name for p in (data_dir / "workers").iterdir()} <= {"gw0", "gw1"}
    assert list(data_dir.glob("population-*/frame.json")), "the population was stored once in the shared data dir"


def test_ini_paths_are_relative_to_the_ini_file(project: pytest.Pytester) -> None:
    """``sandbox_fixtures`` in an ini file names a folder next to that file, whatever the working directory."""
    overlay = project.path / "sandbox-fixtures" / "clevertap"
    overlay.mkdir(parents=True)
    (overlay / "campaigns.json").write_text('{"campaigns": [{"id": 1234567, "name": "Mine", "channel": "sms"}]}')
    project.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
                    "sandbox_fixtures = sandbox-fixtures\nsandbox_strict = true\n")
    project.makepyfile(test_inner='''
def test_overlay(sandbox_settings, sandbox):
    assert sandbox_settings.strict is True
    assert sandbox_settings.fixtures.is_absolute() and sandbox_settings.fixtures.name == "sandbox-fixtures"
    names = {c["name"] for c in sandbox.call("GET", "/_sandbox/vendors/clevertap/campaigns")["items"]}
    assert "Mine" in names and len(names) > 1  # merged into the packaged campaigns
''')
    sub = project.mkdir("sub")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(sub)
        result = project.runpytest(*SMALL, str(project.path / "test_inner.py"), f"--rootdir={project.path}",
                                   "-c", str(project.path / "tox.ini"))
    result.assert_outcomes(passed=1)


@pytest.fixture
def external_server(tmp_path: Path) -> Iterator[str]:
    """``campaign-sandbox serve --port 0`` as a subprocess; its URL from the startup banner."""
    exe = Path(sys.executable).with_name("campaign-sandbox")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "sandbox"]
    proc = subprocess.Popen([*command, "serve", "--port", "0", "--population-size", "200"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"serving on (http://\S+)", line)
        if found is None:
            proc.terminate()
            pytest.fail(f"campaign-sandbox serve did not start:\n{line}{proc.stdout.read()}", pytrace=False)
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(10)


def test_external_url_mode_with_xdist(project: pytest.Pytester, external_server: str) -> None:
    project.makepyfile(test_inner=ISOLATION + '''
def test_uses_the_external_sandbox(sandbox_server, sandbox_url):
    assert sandbox_server.external and sandbox_server.app is None
    assert sandbox_url == "''' + external_server + '''"
''')
    result = project.runpytest_subprocess("-p", "xdist", "-n", "2", f"--sandbox-url={external_server}")
    result.assert_outcomes(passed=5)
    tenants = {e["tenant"] for e in SandboxClient(external_server).requests()}
    assert len(tenants) == 4


def test_external_url_from_the_environment(project: pytest.Pytester, external_server: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_URL", external_server)
    project.makepyfile(test_inner='''
def test_env(sandbox_server):
    assert sandbox_server.external
''')
    project.runpytest_subprocess().assert_outcomes(passed=1)


def test_an_unreachable_external_sandbox_is_reported_clearly(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner="def test_x(sandbox):\n    pass\n")
    result = project.runpytest("--sandbox-url=http://127.0.0.1:9")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the external sandbox at http://127.0.0.1:9 is not healthy: cannot reach*"])
