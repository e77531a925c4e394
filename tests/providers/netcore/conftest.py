"""Fixtures of the Netcore tests (helpers in ``tests/support/netcore.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from support.netcore import Netcore


@pytest.fixture
def nc(api: Any) -> Netcore:
    return Netcore(api)

