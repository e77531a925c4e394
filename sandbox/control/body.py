"""Helpers shared by control endpoints: JSON answers and reading JSON bodies."""

from __future__ import annotations

import math
from typing import Any

import orjson
from aiohttp import web

from sandbox.core import safejson
from sandbox.core.errors import BadRequest
from sandbox.core.pipeline import CONTROL_BODY


def answer(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=safejson.dumps(body), status=status, content_type="application/json")


async def read_json(request: web.Request, *, default: Any = None) -> Any:
    """The body the middleware read (bounded by --max-body-size, decoded), parsed with the nesting cap."""
    raw = request.get(CONTROL_BODY, b"")
    if not raw.strip():
        return default
    try:
        return safejson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    except safejson.TooDeep as exc:
        raise BadRequest(f"body is not accepted: {exc}") from None


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (ValueError, OverflowError):
        raise BadRequest(f"query parameter {name} must be an integer, got {raw!r}") from None


def float_param(request: web.Request, name: str, default: float) -> float:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadRequest(f"query parameter {name} must be a number, got {raw!r}")
    return value
