"""Fixtures of the Netcore tests (helpers in ``tests/support/netcore.py``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from support.http import DEFAULT_SETTINGS, Api
from support.netcore import Netcore

from sandbox.app import create_app


@pytest.fixture
def nc(api: Any) -> Netcore:
    return Netcore(api)


@pytest.fixture
async def strict_nc(aiohttp_client: Any, external_url: str | None) -> Netcore:
    """A sandbox started with ``--strict`` (in-process only)."""
    if external_url is not None:
        pytest.skip("needs an in-process sandbox with strict=True")
    return Netcore(Api(await aiohttp_client(create_app(dataclasses.replace(DEFAULT_SETTINGS, strict=True)))))
