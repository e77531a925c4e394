"""Golden request/response pairs from the vendor docs: ``tests/golden/<vendor>/<operation>.<case>.json``.

File shape: ``{"source": "<where the pair comes from>", "request": {"method", "path", "headers",
"query"?, "body" | "raw_body"}, "response": {"status", "body", "headers"?}}``. In expected bodies a string
``"$any"``, ``"$int"``, ``"$string"``, ``"$hex32"``, ``"$uuid"`` or ``"$iso8601"`` matches any such value
(for ids the sandbox generates); everything else must be equal, whole body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

GOLDEN_ROOT = Path(__file__).resolve().parent.parent / "golden"

PLACEHOLDERS = {
    "$any": lambda v: True,
    "$int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "$string": lambda v: isinstance(v, str),
    "$hex32": lambda v: isinstance(v, str) and re.fullmatch(r"[0-9a-f]{32}", v) is not None,
    "$uuid": lambda v: isinstance(v, str) and re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", v) is not None,
    "$iso8601": lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", v) is not None,
}


@dataclass(frozen=True)
class Golden:
    path: Path
    vendor: str
    operation: str
    case: str
    request: dict[str, Any]
    response: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.vendor}/{self.operation}.{self.case}"


def load_all(folder: str | None = None) -> list[Golden]:
    """The pairs in ``tests/golden/<folder>/``: a vendor, or one of its subfolders (``clevertap/strict``);
    without one, every vendor's (not their subfolders)."""
    root = GOLDEN_ROOT
    found = []
    for file in sorted(root.glob(f"{folder or '*'}/*.*.json")):
        operation, case = file.name[: -len(".json")].split(".", 1)
        doc = orjson.loads(file.read_bytes())
        vendor = file.relative_to(root).parts[0]
        found.append(Golden(file, vendor, operation, case, doc["request"], doc["response"]))
    return found


async def replay(api: Any, golden: Golden) -> tuple[int, Any, Any]:
    """Send ``golden``'s request through ``api`` (``support.http.Api``): (status, body, headers)."""
    req = golden.request
    return await api.call(req["method"], req["path"], json=req.get("body"), data=req.get("raw_body"),
                          headers=req.get("headers"), params=req.get("query"))


def matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and expected in PLACEHOLDERS:
        return PLACEHOLDERS[expected](actual)
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(matches(v, actual[k]) for k, v in expected.items()))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(matches(e, a) for e, a in zip(expected, actual, strict=True)))
    return type(expected) is type(actual) and expected == actual
