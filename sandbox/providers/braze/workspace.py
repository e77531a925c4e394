"""The Braze workspace fixture (``fixtures/braze/workspace.json``): campaigns, Canvases, segments,
subscription groups, Global Control Group and dashboard-scheduled broadcasts, as made in the dashboard.

Loaded and validated once at startup through ``load_fixture`` (``--fixtures DIR/braze/workspace.json`` merges
into the packaged file by id and key, or replaces it with ``"replace": true``); a bad file stops startup naming
the file, the JSON path and the problem. Shape: ``schemas/braze/_defs.json`` ``#/$defs/workspace``. Run-time
and learned objects live beside it (``dashboards.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from jsonschema import Draft202012Validator

from sandbox.core.fixture_files import FixtureError, load_fixture
from sandbox.core.resources import data_path
from sandbox.population.audience.tree import validate_tree

FIXTURE = "braze/workspace.json"
API = "api"
API_TRIGGERED = "api_triggered"
TRANSACTIONAL = "transactional"
ACTIVE, PAUSED, ARCHIVED, DRAFT = "active", "paused", "archived", "draft"


WorkspaceError = FixtureError
"""A bad workspace file (the message names the file, the JSON path and the problem)."""


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    name: str
    type: str
    state: str
    messages: Mapping[str, Mapping[str, Any]]
    """``{message_variation_id: {"channel": <messaging object key>, "name"?, ...content}}``."""
    segment_id: str | None
    raw: Mapping[str, Any]
    settled: bool = True
    """False for a campaign learned where the request does not tell its kind (``/sends/id/create``): the first
    send that uses it settles it (see ``learn.py``)."""

    def channel_of(self, variation_id: str) -> str | None:
        message = self.messages.get(variation_id)
        return None if message is None else message["channel"]


@dataclass(frozen=True, slots=True)
class Canvas:
    id: str
    name: str
    state: str
    segment_id: str | None
    steps: tuple[Mapping[str, Any], ...]
    raw: Mapping[str, Any]

    def entry_messages(self) -> dict[str, Mapping[str, Any]]:
        """The messages of the entry step (the first step with messages) [INF]."""
        for step in self.steps:
            if step.get("messages"):
                return dict(step["messages"])
        return {}


@dataclass(frozen=True, slots=True)
class Workspace:
    time_zone: tzinfo
    campaigns: Mapping[str, Campaign]
    canvases: Mapping[str, Canvas]
    segments: Mapping[str, Mapping[str, Any]]
    subscription_groups: Mapping[str, Mapping[str, Any]]
    global_control_group: frozenset[str]
    scheduled_broadcasts: tuple[Mapping[str, Any], ...]
    source: Path = field(compare=False, default=Path(FIXTURE))
    strict: bool = False
    """``"strict": true`` in the file: unknown references get Braze's errors, as with ``--strict``."""

    def campaigns_of(self, kind: str) -> list[Campaign]:
        return [c for c in self.campaigns.values() if c.type == kind]


def load(settings: Any) -> Workspace:
    """The packaged workspace with the ``--fixtures`` overlay merged in."""
    doc, path = load_fixture(settings, FIXTURE)
    return build(doc, path)


def campaign_of(raw: Mapping[str, Any], *, settled: bool = True) -> Campaign:
    return Campaign(raw["id"], raw["name"], raw["type"], raw.get("state", ACTIVE), raw.get("messages", {}),
                    raw.get("segment_id"), raw, settled)


def canvas_of(raw: Mapping[str, Any]) -> Canvas:
    return Canvas(raw["id"], raw["name"], raw.get("state", ACTIVE), raw.get("segment_id"),
                  tuple(raw.get("steps", [])), raw)


def build(doc: Any, path: Path) -> Workspace:
    _check_schema(doc, path)
    segments = _unique(doc.get("segments", []), "segments", path)
    for i, segment in enumerate(doc.get("segments", [])):
        try:
            validate_tree(segment.get("members", {"all": []}), f"$.segments[{i}].members")
        except ValueError as exc:
            raise WorkspaceError(f"{path}: {exc}") from None
    campaigns = {}
    for i, raw in enumerate(doc.get("campaigns", [])):
        _known_segment(raw, f"$.campaigns[{i}]", segments, path)
        campaigns[raw["id"]] = campaign_of(raw)
    canvases = {}
    for i, raw in enumerate(doc.get("canvases", [])):
        _known_segment(raw, f"$.canvases[{i}]", segments, path)
        canvases[raw["id"]] = canvas_of(raw)
    _unique(doc.get("campaigns", []), "campaigns", path)
    _unique(doc.get("canvases", []), "canvases", path)
    _unique_variations(doc, path)
    try:
        name = doc.get("time_zone", "UTC")
        zone: tzinfo = UTC if name == "UTC" else ZoneInfo(name)  # UTC needs no tz database
    except (ZoneInfoNotFoundError, ValueError):
        raise WorkspaceError(f"{path}: $.time_zone: unknown IANA time zone {doc.get('time_zone')!r}") from None
    return Workspace(zone, campaigns, canvases, segments, _unique(doc.get("subscription_groups", []),
                                                                  "subscription_groups", path),
                     frozenset(str(u) for u in doc.get("global_control_group", [])),
                     tuple(doc.get("scheduled_broadcasts", [])), path, doc.get("strict", False))


@cache
def _validator(definition: str) -> Draft202012Validator:
    defs = orjson.loads((data_path("schemas") / "braze" / "_defs.json").read_bytes())
    return Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": defs["$defs"]})


def schema_error(definition: str, doc: Any) -> str | None:
    """``<JSON path>: <problem>`` of the first violation of ``_defs.json#/$defs/<definition>``, or None."""
    error = next(iter(sorted(_validator(definition).iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
    return None if error is None else f"{error.json_path}: {error.message}"


def _check_schema(doc: Any, path: Path) -> None:
    error = schema_error("workspace", doc)
    if error is not None:
        raise WorkspaceError(f"{path}: {error}")


def _unique(items: list[Mapping[str, Any]], name: str, path: Path) -> dict[str, Mapping[str, Any]]:
    seen: dict[str, Mapping[str, Any]] = {}
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise WorkspaceError(f"{path}: $.{name}[{i}].id: duplicate id {item['id']!r}")
        seen[item["id"]] = item
    return seen


def _unique_variations(doc: Mapping[str, Any], path: Path) -> None:
    seen: set[str] = set()
    for i, campaign in enumerate(doc.get("campaigns", [])):
        for variation in campaign.get("messages", {}):
            if variation in seen:
                raise WorkspaceError(f"{path}: $.campaigns[{i}].messages: message variation id {variation!r} "
                                     "is used by two campaigns")
            seen.add(variation)


def _known_segment(raw: Mapping[str, Any], where: str, segments: Mapping[str, Any], path: Path) -> None:
    segment = raw.get("segment_id")
    if segment is not None and segment not in segments:
        raise WorkspaceError(f"{path}: {where}.segment_id: no segment {segment!r} in $.segments")
