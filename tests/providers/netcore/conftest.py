"""Fixtures of the Netcore tests (helpers in ``netcore_api.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from providers.netcore.netcore_api import Netcore


@pytest.fixture
def nc(api: Any) -> Netcore:
    return Netcore(api)

