"""Netcore account data made in its panel, loaded at startup from ``fixtures/netcore/*.json`` with the
``--fixtures`` overlay merged in (``load_fixture``: items by id, settings by key; ``"replace": true`` replaces).

- ``templates.json``: ``{"templates": [{"id", "channel", "name", "title"?, "subject"?, "body", ...}]}``
  (templates are only made in the Smartech UI; create calls name them by id [V-seed]).
- ``lists.json``: ``{"lists": [{"id", "name", "members": [<contact>]}]}``; a contact is an object of
  attributes in Netcore's upper-case style (``CUSTOMER_ID``, ``EMAIL``, ``MOBILE``, ``FIRST_NAME``...).
- ``segments.json``: ``{"segments": [{"id", "name", "rule": <neutral condition tree>}]}`` (a rule over the
  shared population, ``sandbox/population/audience/tree.py``; ``{"member_of": "list:<id>"}`` / ``"segment:<id>"`` name
  other audiences) or, for a static segment, ``"members": [<contact>]`` instead of ``rule``.
- ``campaigns.json``: ``{"campaigns": [<v4 campaign as "get" returns it, plus "channel">]}``: campaigns
  that already exist in every tenant's panel (the v4 doc examples name them).
- ``account.json``: ``{"strict": false, "app_ids": [{"id", "name"?, "platform"?}]}``: the account's apps
  (gen-1 and v3 ``app_ids``) and whether unknown references are rejected (strict) or learned.
A bad file stops startup with its path, the JSON path of the value at fault and the problem; an overlay
file's items are checked in the overlay file itself, so the JSON path points into the user's file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from sandbox.core.fixture_files import FixtureError, load_fixture, read_fixture
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
    "account": {"type": "object", "required": ["app_ids"], "properties": {
        "strict": {"type": "boolean"},
        "app_ids": {"type": "array", "items": {
            "type": "object", "required": ["id"],
            "properties": {"id": {"type": "string", "minLength": 1}, "name": {"type": "string"},
                           "platform": {"enum": ["android", "ios", "web"]}}}}}},
}
COLLECTION_OF = {"templates": "templates", "lists": "lists", "segments": "segments", "campaigns": "campaigns",
                 "account": "app_ids"}
"""File name -> the collection it holds."""
for _name, _schema in SCHEMAS.items():  # a misspelt top-level key is an error, not silently ignored
    _schema["additionalProperties"] = False
    _schema["properties"]["replace"] = {"type": "boolean"}
ID_OF = {"campaigns": "campaign_id"}
"""The id key of a collection's items (``id`` unless named here)."""
FILE_OF = {collection: file for file, collection in COLLECTION_OF.items()}
"""Collection -> the file (``netcore/<file>.json``) that declares it."""


@dataclass(frozen=True, slots=True)
class Catalog:
    templates: dict[str, dict[str, Any]]
    lists: dict[str, dict[str, Any]]
    segments: dict[str, dict[str, Any]]
    campaigns: dict[str, dict[str, Any]]
    app_ids: dict[str, dict[str, Any]]
    """Keys are ids as strings: requests send them as ints or digit strings."""
    strict: bool = False
    """``account.json`` ``"strict": true``: this vendor rejects unknown references even without --strict."""


def load_catalog(settings: Settings) -> Catalog:
    docs = {name: _load(settings, name) for name in SCHEMAS}
    by_id = {COLLECTION_OF[name]: _by_id(doc, name) for name, doc in docs.items()}
    catalog = Catalog(**by_id, strict=bool(docs["account"]["doc"].get("strict", False)))
    for index, (segment_id, segment) in enumerate(catalog.segments.items()):
        where = f"$.segments[{docs['segments']['indexes'].get(segment_id, index)}]"
        try:
            check_rule(segment, where, lambda kind, ident: ident in {"list": catalog.lists,
                                                                     "segment": catalog.segments}.get(kind, {}))
        except ValueError as exc:
            raise FixtureError(f"{docs['segments']['path']}: {exc}") from None
    return catalog


def check_rule(segment: dict[str, Any], where: str, known: Any) -> None:
    """A segment's rule is a valid tree whose ``member_of`` nodes name known lists/other segments
    (``known(kind, id)``); ValueError ``<where>.rule: <problem>``."""
    if "rule" not in segment:
        return
    validate_tree(segment["rule"], f"{where}.rule")
    for member in _members(segment["rule"]):
        kind, _, ident = str(member).partition(":")
        if not known(kind, ident) or (kind == "segment" and ident == str(segment["id"])):
            raise ValueError(f"{where}.rule: member_of {member!r} names no list:<id> or other segment:<id>")


def check_item(name: str, item: Any) -> dict[str, Any]:
    """A run-time addition to collection ``name`` (``POST /_sandbox/vendors/netcore/<name>``), checked like a
    fixture file's item; ValueError says what is wrong."""
    file = FILE_OF[name]
    schema = SCHEMAS[file]["properties"][name]["items"]
    error = best_match(Draft202012Validator(schema).iter_errors(item))
    if error is not None:
        raise ValueError(f"{error.json_path}: {error.message}")
    return copy.deepcopy(item)


def _members(node: Any) -> list[Any]:
    if isinstance(node, dict):
        found = [node["member_of"]] if "member_of" in node else []
        return found + [m for value in node.values() for m in _members(value)]
    if isinstance(node, list):
        return [m for item in node for m in _members(item)]
    return []


def _load(settings: Settings, name: str) -> dict[str, Any]:
    """The merged document, checked; an overlay file is first checked on its own (its items are whole), so
    a problem is reported at its place in the user's file."""
    indexes: dict[str, int] = {}
    overlay = settings.fixtures / "netcore" / f"{name}.json" if settings.fixtures is not None else None
    if overlay is not None and overlay.is_file():
        own = read_fixture(overlay)
        _check(own, name, overlay, partial=not (isinstance(own, dict) and own.get("replace") is True))
        key = ID_OF.get(name, "id")
        indexes = {str(item[key]): i for i, item in enumerate(own.get(COLLECTION_OF[name]) or ())}
    doc, path = load_fixture(settings, f"netcore/{name}.json")
    _check(doc, name, path, partial=False)
    return {"path": path, "doc": doc, "indexes": indexes}


def _check(doc: Any, name: str, path: Path, *, partial: bool) -> None:
    schema = SCHEMAS[name]
    if partial:
        schema = {k: v for k, v in schema.items() if k != "required"}
    error = best_match(Draft202012Validator(schema).iter_errors(doc))
    if error is not None:
        raise FixtureError(f"{path}: {error.json_path}: {error.message}")
    _by_id({"path": path, "doc": doc}, name)


def _by_id(loaded: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    collection, key = COLLECTION_OF[name], ID_OF.get(name, "id")
    found: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(loaded["doc"].get(collection) or ()):
        ident = str(item[key])
        if ident in found:
            raise FixtureError(f"{loaded['path']}: $.{collection}[{index}].{key}: duplicate id {ident}")
        found[ident] = item
    return found
