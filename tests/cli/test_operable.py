"""The command line as an operator meets it: startup failures in two lines and exit 2, signals at any moment,
the startup line, the access log (text or JSON, --quiet), `routes | head`, `population --help`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from support.cli import SCRIPT, start_with_line


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def assert_short_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


@pytest.mark.parametrize(("args", "words"), [
    (["--port", "99999"], ["--port 99999", "0-65535"]),
    (["--port", "abc"], ["--port", "'abc'"]),
    (["--log-level", "loud"], ["--log-level", "choose from"]),
    (["--log-format", "xml"], ["--log-format", "choose from"]),
    (["--host", "nosuchhost.invalid"], ["nosuchhost.invalid", "--host"]),
    (["--data-dir", "/proc/sandbox-data"], ["--data-dir", "not writable"]),
], ids=["port-range", "port-text", "log-level", "log-format", "host", "data-dir"])
def test_startup_failures_are_two_lines_and_exit_2(args: list[str], words: list[str]) -> None:
    assert_short_failure(run("serve", "--population-size", "50", *args), *words)


def test_port_in_use_names_the_port_and_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_short_failure(run("serve", "--port", str(port)), f"port {port} is in use", "--port")


def test_bad_files_are_one_line_without_traceback_unless_debug(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_text('{"clevertap": ["ACC1"]}')
    result = run("serve", "--port", "0", "--population-size", "50", "--accounts", str(accounts))
    assert_short_failure(result, str(accounts), "$.clevertap", "<passcode>")
    debug = run("serve", "--port", "0", "--population-size", "50", "--accounts", str(accounts), "--log-level", "debug")
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    fixtures = tmp_path / "fixtures"
    (fixtures / "clevertap").mkdir(parents=True)
    (fixtures / "clevertap" / "account.json").write_text("{broken")
    assert_short_failure(run("serve", "--port", "0", "--population-size", "50", "--fixtures", str(fixtures)),
                         "account.json")


def test_population_help_lists_only_its_options_and_routes_into_a_closed_pipe_is_quiet() -> None:
    help_text = run("population", "--help").stdout
    assert "--population-size" in help_text and "--seed" in help_text
    for foreign in ("--port", "--host", "--accounts", "--control-token", "--journal-limit"):
        assert foreign not in help_text
    piped = subprocess.run(f"'{SCRIPT}' routes | head -1", shell=True, capture_output=True, text=True, timeout=60)
    assert piped.stdout.count("\n") == 1 and piped.stderr == ""


def test_startup_line_access_log_and_stop_line() -> None:
    proc, url, line = start_with_line([SCRIPT, "serve", "--port", "0", "--population-size", "120", "--seed", "9",
                                       "--journal-limit", "500"])
    try:
        for part in ("vendors: clevertap, braze, netcore", "population: 120 users, seed 9, built in",
                     "data dir: none (in memory)", "account data: learn, fixtures packaged", "accounts: any credential",
                     "journal: 500 entries"):
            assert part in line, (part, line)
        body = b'{"to":{"Identity":["a"]},"content":{"body":"b"}}'
        request = urllib.request.Request(url + "/1/send/sms.json", data=body, method="POST",
                                         headers={"X-CleverTap-Account-Id": "ACC", "X-CleverTap-Passcode": "P"})
        urllib.request.urlopen(request, timeout=10).read()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert "POST /1/send/sms.json clevertap/send_sms 200 tenant=ACC" in err
        assert out.strip().endswith("campaign-sandbox stopped")
    finally:
        proc.kill()


def test_startup_line_names_strict_mode_and_the_overlay(tmp_path: Path) -> None:
    overlay = tmp_path / "mine"
    (overlay / "clevertap").mkdir(parents=True)
    (overlay / "clevertap" / "campaigns.json").write_text('{"campaigns": []}')
    proc, _url, line = start_with_line([SCRIPT, "serve", "--port", "0", "--population-size", "120", "--strict",
                                        "--fixtures", str(overlay)])
    try:
        assert f"account data: strict, fixtures packaged + overlay {overlay}" in line, line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def test_json_log_format_makes_every_line_json_and_quiet_drops_the_access_log() -> None:
    proc, url, line = start_with_line([SCRIPT, "serve", "--port", "0", "--population-size", "80",
                                       "--log-format", "json", "--quiet"])
    try:
        assert json.loads(line)["population"]["size"] == 80
        urllib.request.urlopen(url + "/_sandbox/health", timeout=10).read()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0
        for text in out.splitlines() + err.splitlines():
            json.loads(text)
        assert "/_sandbox/health" not in err
    finally:
        proc.kill()
    proc, url, _ = start_with_line([SCRIPT, "serve", "--port", "0", "--population-size", "80", "--log-format", "json"])
    try:
        urllib.request.urlopen(url + "/_sandbox/health", timeout=10).read()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        [access] = [json.loads(t) for t in err.splitlines() if "/_sandbox/health" in t]
        assert (access["method"], access["path"], access["status"], access["operation"]) == (
            "GET", "/_sandbox/health", 200, "control")
    finally:
        proc.kill()


def test_sigterm_while_the_population_is_built_exits_0_with_a_line() -> None:
    proc = subprocess.Popen([SCRIPT, "serve", "--port", "0", "--population-size", "2000000", "--log-level", "debug"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    assert proc.stderr is not None
    while "building or loading the population" not in proc.stderr.readline():
        pass
    time.sleep(1)  # into the build (not a timed assertion: building 2M users takes minutes)
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler shows where it hangs
        raise AssertionError(proc.communicate()[1]) from None
    assert proc.returncode == 0, err
    assert "stopped while starting" in out
    assert "Traceback" not in err and "faker" not in err  # Faker's locale chatter stays out of debug logs


def test_a_long_poll_in_flight_is_answered_at_shutdown() -> None:
    proc, url, _ = start_with_line([SCRIPT, "serve", "--port", "0", "--population-size", "80"])
    answers: list[int] = []

    def poll() -> None:
        with urllib.request.urlopen(url + "/_sandbox/requests?wait=50&count=5", timeout=30) as resp:
            answers.append(resp.status)

    poller = threading.Thread(target=poll)
    try:
        poller.start()
        time.sleep(1)  # let the poll reach the server
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        poller.join(10)
        assert answers == [200]
    finally:
        proc.kill()


@pytest.mark.parametrize(("args", "warned"), [(["--host", "0.0.0.0"], True),
                                             (["--host", "0.0.0.0", "--control-token", "t0ken"], False),
                                             (["--host", "127.0.0.1"], False)])
def test_serving_beyond_loopback_without_a_token_warns(args: list[str], warned: bool) -> None:
    proc, _, line = start_with_line([SCRIPT, "serve", "--port", "0", "--population-size", "60", *args])
    try:
        assert ("token required" in line) == ("--control-token" in args)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert ("without a control token" in err) == warned, err
    finally:
        proc.kill()
