"""Netcore account data made in its UI, loaded at startup from ``fixtures/netcore/*.json`` (or the overlay).

- ``templates.json``: ``{"templates": [{"id", "channel", "name", "title"?, "subject"?, "body", ...}]}``
  (templates are only made in the Smartech UI; create calls name them by id [V-seed]).
- ``lists.json``: ``{"lists": [{"id", "name", "members": [<contact>]}]}``; a contact is an object of
  attributes in Netcore's upper-case style (``CUSTOMER_ID``, ``EMAIL``, ``MOBILE``, ``FIRST_NAME``...).
- ``segments.json``: ``{"segments": [{"id", "name", "rule": <neutral condition tree>}]}`` (a rule over the
  shared population, ``sandbox/population/audience/tree.py``; ``{"member_of": "list:<id>"}`` / ``"segment:<id>"`` name
  other audiences) or, for a static segment, ``"members": [<contact>]`` instead of ``rule``.
- ``campaigns.json``: ``{"campaigns": [<v4 campaign as "get" returns it, plus "channel">]}``: campaigns
  that already exist in every tenant's panel (the v4 doc examples name them).
A bad file stops startup with its path, the JSON path of the value at fault and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from sandbox.core.fixture_files import FixtureError, read_fixture
from sandbox.population.audience.tree import validate_tree
from sandbox.settings import Settings

ID = {"type": "integer", "minimum": 1}
CONTACT = {"type": "object", "minProperties": 1,
           "anyOf": [{"required": ["CUSTOMER_ID"]}, {"required": ["EMAIL"]}, {"required": ["MOBILE"]}],
           "properties": {"CUSTOMER_ID": {"type": "string", "minLength": 1},
                          "EMAIL": {"type": "string", "minLength": 3},
                          "MOBILE": {"type": ["string", "integer"]}}}
AUDIENCE = {"type": "object", "required": ["id", "name"],
            "properties": {"id": ID, "name": {"type": "string"}, "members": {"type": "array", "items": CONTACT}}}
TEMPLATE_CHANNELS = ("apn", "email")

SCHEMAS: dict[str, dict[str, Any]] = {
    "templates": {"type": "object", "required": ["templates"], "properties": {"templates": {
        "type": "array", "items": {
            "type": "object", "required": ["id", "channel", "body"],
            "properties": {"id": ID, "channel": {"enum": list(TEMPLATE_CHANNELS)}, "name": {"type": "string"},
                           "title": {"type": "string"}, "subject": {"type": "string"},
                           "body": {"type": "string"}, "landing_page": {"type": "string"},
                           "url": {"type": "string"}},
            "if": {"properties": {"channel": {"const": "email"}}}, "then": {"required": ["subject"]},
            "else": {"required": ["title"]}}}}},
    "lists": {"type": "object", "required": ["lists"],
              "properties": {"lists": {"type": "array", "items": AUDIENCE}}},
    "segments": {"type": "object", "required": ["segments"],
                 "properties": {"segments": {"type": "array", "items": {
                     **AUDIENCE, "properties": {**AUDIENCE["properties"], "rule": {"type": "object"}},
                     "not": {"required": ["rule", "members"]}}}}},
    "campaigns": {"type": "object", "required": ["campaigns"], "properties": {"campaigns": {
        "type": "array", "items": {
            "type": "object", "required": ["campaign_id", "channel", "campaign_name", "campaign_state"],
            "properties": {"campaign_id": ID, "channel": {"const": "email"},
                           "campaign_name": {"type": "string", "minLength": 1},
                           "campaign_state": {"enum": ["draft", "scheduled", "sent", "suspended"]}}}}}},
}


@dataclass(frozen=True, slots=True)
class Catalog:
    templates: dict[str, dict[str, Any]]
    lists: dict[str, dict[str, Any]]
    segments: dict[str, dict[str, Any]]
    campaigns: tuple[dict[str, Any], ...]
    """Keys of the first three are ids as strings: requests send them as ints or digit strings."""


def load_catalog(settings: Settings) -> Catalog:
    docs = {name: _load(settings.fixture(f"netcore/{name}.json"), name) for name in SCHEMAS}
    catalog = Catalog(templates=_by_id(docs["templates"], "templates", "id"),
                      lists=_by_id(docs["lists"], "lists", "id"),
                      segments=_by_id(docs["segments"], "segments", "id"),
                      campaigns=tuple(_by_id(docs["campaigns"], "campaigns", "campaign_id").values()))
    _check_rules(catalog, docs["segments"]["path"])
    return catalog


def _check_rules(catalog: Catalog, path: Path) -> None:
    """Rules are valid trees whose ``member_of`` nodes name known lists/other segments."""
    for index, (segment_id, segment) in enumerate(catalog.segments.items()):
        if "rule" not in segment:
            continue
        where = f"$.segments[{index}].rule"
        try:
            validate_tree(segment["rule"], where)
        except ValueError as exc:
            raise FixtureError(f"{path}: {exc}") from None
        for member in _members(segment["rule"]):
            kind, _, ident = str(member).partition(":")
            known = {"list": catalog.lists, "segment": catalog.segments}.get(kind, {})
            if ident not in known or (kind == "segment" and ident == segment_id):
                raise FixtureError(f"{path}: {where}: member_of {member!r} names no list:<id> or other segment:<id>")


def _members(node: Any) -> list[Any]:
    if isinstance(node, dict):
        found = [node["member_of"]] if "member_of" in node else []
        return found + [m for value in node.values() for m in _members(value)]
    if isinstance(node, list):
        return [m for item in node for m in _members(item)]
    return []


def _load(path: Path, name: str) -> dict[str, Any]:
    doc = read_fixture(path)
    error = best_match(Draft202012Validator(SCHEMAS[name]).iter_errors(doc))
    if error is not None:
        raise FixtureError(f"{path}: {error.json_path}: {error.message}")
    return {"path": path, name: doc[name]}


def _by_id(doc: dict[str, Any], name: str, key: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(doc[name]):
        ident = str(item[key])
        if ident in found:
            raise FixtureError(f"{doc['path']}: $.{name}[{index}].{key}: duplicate id {ident}")
        found[ident] = item
    return found
