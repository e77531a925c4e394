"""``POST /_sandbox/audience/estimate`` for Braze: a connected audience (spec §11.2) and/or a ``segment_id``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.core.provider import AudienceQuery
from sandbox.providers.braze.dispatch import resolver, scope_tree
from sandbox.providers.braze.errors import BrazeFail
from sandbox.providers.braze.workspace import Workspace


def estimate_query(spec: Any, workspace: Workspace) -> AudienceQuery:
    """``{"segment_id": ..., "audience": {...}}``, or a bare connected audience (``{"AND": [...]}``...)."""
    if not isinstance(spec, Mapping):
        raise ValueError("expected a connected audience object or {\"segment_id\": ..., \"audience\": ...}")
    if "segment_id" in spec or "audience" in spec:
        segment, audience = spec.get("segment_id"), spec.get("audience")
    else:
        segment, audience = None, spec
    if segment is not None and str(segment) not in workspace.segments:
        raise LookupError(f"unknown segment_id {segment!r} (segments of the workspace fixture: "
                          f"{', '.join(sorted(workspace.segments))})")
    try:
        tree = scope_tree(None if segment is None else str(segment), audience)
    except BrazeFail as exc:
        raise ValueError(exc.message) from None
    return AudienceQuery(tree or {"everyone": True}, resolve_member=resolver(workspace))
