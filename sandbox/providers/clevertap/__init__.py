"""CleverTap: the Message Identity API (``/1/send/*.json``) and, later, campaigns and user data."""

from __future__ import annotations

from aiohttp import web

from ...errors import SandboxError
from ...operations import Call, Operation, Reply
from ...provider import Provider
from . import errors, routes
from .auth import ACCOUNT_HEADER, PASSCODE_HEADER, authenticate


class CleverTap(Provider):
    name = routes.VENDOR
    roots = ("/1/", "/2/")
    identifying_headers = (ACCOUNT_HEADER, PASSCODE_HEADER)
    content_type = errors.CONTENT_TYPE

    def operations(self) -> list[Operation]:
        return routes.operations()

    def tenant_hint(self, request: web.Request) -> str | None:
        return request.headers.get(ACCOUNT_HEADER, "").strip() or None

    def admit(self, call: Call) -> str | None:
        return authenticate(call.request.headers, self.accounts)

    def render_error(self, error: SandboxError, request: web.Request) -> Reply:
        return errors.render(error, request)
