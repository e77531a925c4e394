"""Every golden pair in tests/golden/<vendor>/ is replayed over HTTP; status and whole body must match."""

from __future__ import annotations

import pytest
from support.golden import Golden, load_all, matches, replay

GOLDEN = load_all()


@pytest.mark.parametrize("golden", GOLDEN, ids=[g.id for g in GOLDEN])
async def test_golden_pair(api, golden: Golden) -> None:
    req = golden.request
    status, body, headers = await replay(api, golden)
    expected = golden.response
    assert status == expected["status"], (golden.path.name, status, body)
    assert matches(expected["body"], body), f"{golden.path.name}: expected {expected['body']!r}, got {body!r}"
    for name, value in expected.get("headers", {}).items():
        assert headers.get(name) == value, (name, headers.get(name))
    recorded = (await api.requests(path=req["path"]))[-1]
    assert recorded["status"] == status and recorded["response"] == body
    assert recorded["operation"] == (golden.operation if golden.operation != "unknown" else None)
