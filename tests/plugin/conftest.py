"""Plugin tests run inner pytest sessions (``pytester``); they must not inherit an external sandbox."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_external_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_URL", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
