"""Fixtures of the Braze tests (helpers in ``tests/support/braze.py``).

``bz`` talks to a fresh app per test. ``shared_bz`` is one app per module, for the table-driven error rows
that leave no state behind (an app costs ~1 s to build: every schema is compiled): mark those tests
``@pytest.mark.asyncio(loop_scope="module")``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from support.braze import Braze
from support.http import Api

from sandbox.app import create_app
from sandbox.settings import Settings


@pytest.fixture
def bz(api: Any) -> Braze:
    return Braze(api)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared_bz() -> AsyncIterator[Braze]:
    client = TestClient(TestServer(create_app(Settings(population_size=300, webhooks="off"))))
    await client.start_server()
    yield Braze(Api(client))
    await client.close()
