"""The README stays true: every plugin option it names exists, and its GitHub Actions recipe parses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DOC = Path(__file__).resolve().parents[2] / "README.md"


def test_every_documented_option_and_ini_setting_exists(pytestconfig: pytest.Config) -> None:
    text = DOC.read_text()
    options = set(re.findall(r"--sandbox-[a-z-]+", text))
    assert {"--sandbox-url", "--sandbox-har", "--sandbox-seed"} <= options
    for name in options:
        assert pytestconfig.getoption(name.lstrip("-").replace("-", "_"), default="missing") != "missing", name
    for ini in set(re.findall(r"`(sandbox_[a-z_]+)`", text)) - {"sandbox_server", "sandbox_url", "sandbox_tenant",
                                                                "sandbox_settings", "sandbox_aiohttp"}:
        pytestconfig.getini(ini)  # raises ValueError for an unknown ini setting


def test_github_actions_recipe_is_a_valid_job() -> None:
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S) if "integration-tests:" in b]
    workflow = yaml.safe_load(block)
    steps = workflow["jobs"]["integration-tests"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any(r.startswith("pip install campaign-sandbox") for r in runs)
    assert any(r.startswith("pytest ") and "--sandbox-har=har" in r for r in runs)
    assert not any("docker" in r for r in runs)
