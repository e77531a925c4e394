"""The plugin as issue 14 wants it: a broken fixture file is one clear error, a failure report shows each
rejected request's answer, and a sandbox guarded by a control token is used with SANDBOX_CONTROL_TOKEN."""

from __future__ import annotations

import pytest

SMALL = ("--sandbox-population-size=200",)

REJECTED = '''
import json, urllib.request, urllib.error

def test_sends_a_bad_push(sandbox, clevertap_credentials):
    request = urllib.request.Request(clevertap_credentials["base_url"] + "/1/send/push.json", data=b"{}",
                                     headers=clevertap_credentials["headers"], method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError:
        pass
    assert False, "the code under test failed"
'''


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def test_a_broken_fixture_file_is_one_clear_error(project: pytest.Pytester) -> None:
    fixtures = project.mkdir("my-fixtures")
    (fixtures / "clevertap").mkdir()
    (fixtures / "clevertap" / "account.json").write_text("{not json")
    project.makepyfile(test_inner='''
def test_one(sandbox):
    pass

def test_two(sandbox):
    pass
''')
    result = project.runpytest(*SMALL, f"--sandbox-fixtures={fixtures}")
    result.assert_outcomes(errors=2)
    text = result.stdout.str()
    assert "campaign-sandbox could not start" in text and "account.json" in text
    assert "Traceback" not in text and len(text.splitlines()) < 60, text


def test_the_failure_report_shows_each_rejected_requests_answer(project: pytest.Pytester) -> None:
    project.makepyfile(test_inner=REJECTED)
    result = project.runpytest(*SMALL)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*campaign-sandbox requests*", "*/1/send/push.json*clevertap/send_push*400*",
                                 "*answer: *'status': 'fail'*'error': *"])


def test_a_guarded_sandbox_is_used_with_the_token_from_the_environment(project: pytest.Pytester,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_CONTROL_TOKEN", "tok-from-env")
    project.makepyfile(test_inner='''
import urllib.request, urllib.error

def test_guarded(sandbox, sandbox_url):
    assert sandbox.health()["settings"]["control_token"] == "***"
    assert sandbox.requests() == []
    try:
        urllib.request.urlopen(sandbox_url + "/_sandbox/requests", timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 401
    else:
        raise AssertionError("the control API answered without the token")
''')
    project.runpytest(*SMALL).assert_outcomes(passed=1)
