"""Loads every JSON Schema once at startup and compiles one validator per operation.

jsonschema is the source of truth (draft 2020-12, every error reported). It walks ``$ref``s at run time,
which costs ~0.2 ms per request, so each schema is also inlined (refs resolved once) and compiled to Python
code by fastjsonschema: valid bodies, the hot path, only pay for that; invalid ones are re-checked by
jsonschema for the full error list (and accepted if jsonschema finds nothing, e.g. a ``format`` that
fastjsonschema checks and jsonschema does not).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import relevance
from referencing import Registry, Resource

from sandbox.core.errors import FieldError, ValidationFailed
from sandbox.core.operations import Operation
from sandbox.core.resources import data_path

BASE_URI = "https://campaign-sandbox.invalid/schemas/"


@cache
def _registry(root: Path) -> Registry:
    resources = []
    for file in sorted(root.rglob("*.json")):
        contents = orjson.loads(file.read_bytes())
        uri = BASE_URI + file.relative_to(root).as_posix()
        contents.setdefault("$id", uri)
        resources.append((uri, Resource.from_contents(contents)))
    return Registry().with_resources(resources)


class Validators:
    """``check(operation, body)`` raises ValidationFailed listing every violation, most relevant first."""

    def __init__(self, operations: Iterable[Operation], root: Path | None = None) -> None:
        root = root or data_path("schemas")
        self._compiled: dict[str, Draft202012Validator] = {}
        self._fast: dict[str, Any] = {}
        for op in operations:
            if op.schema is None or op.schema in self._compiled:
                continue
            try:
                self._compiled[op.schema], self._fast[op.schema] = _compile(root, op.schema)
            except LookupError:
                missing = f"operation {op.key}: schema file schemas/{op.schema}.json is missing"
                raise FileNotFoundError(missing) from None

    def check(self, operation: Operation, body: Any) -> None:
        if operation.schema is None:
            return
        fast = self._fast[operation.schema]
        if fast is not None:
            try:
                fast(body)
                return
            except fastjsonschema.JsonSchemaException:
                pass
        errors = sorted(self._compiled[operation.schema].iter_errors(body), key=_order)
        if errors:
            raise ValidationFailed([_field_error(e) for e in errors])


@cache
def _compile(root: Path, name: str) -> tuple[Draft202012Validator, Any]:
    """Both validators of one schema file. Compiled once per process: they are immutable, and every app built
    in the same process (test suites, the pytest plugin) shares them instead of compiling again."""
    registry = _registry(root)
    uri = BASE_URI + name + ".json"
    schema = registry.contents(uri)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry), _fast_validator(schema, uri, registry)


NOT_IN_DRAFT7 = frozenset({"prefixItems", "dependentRequired", "dependentSchemas", "unevaluatedProperties",
                           "unevaluatedItems", "minContains", "maxContains", "$anchor", "$dynamicRef",
                           "$dynamicAnchor", "$recursiveRef"})


def _fast_validator(schema: Any, uri: str, registry: Registry) -> Any:
    """A fastjsonschema function for the inlined schema, or None when it cannot mirror jsonschema."""
    try:
        flat = _inline(schema, registry.resolver(uri), depth=0)
    except RecursionError:
        return None
    if _keywords(flat) & NOT_IN_DRAFT7:
        return None
    flat = {k: v for k, v in flat.items() if k not in ("$schema", "$id")}
    return fastjsonschema.compile(flat, use_formats=False)


def _inline(node: Any, resolver: Any, depth: int) -> Any:
    if depth > 50:
        raise RecursionError("recursive schema")
    if isinstance(node, list):
        return [_inline(item, resolver, depth) for item in node]
    if not isinstance(node, dict):
        return node
    rest = {k: _inline(v, resolver, depth) for k, v in node.items() if k not in ("$ref", "$defs", "$id")}
    if "$ref" not in node:
        return rest
    resolved = resolver.lookup(node["$ref"])
    target = _inline(resolved.contents, resolved.resolver, depth + 1)
    return {"allOf": [target], **rest} if rest else target


def _keywords(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_keywords(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    return set(node).union(*(_keywords(v) for v in node.values()))


def _order(error: SchemaError) -> tuple[Any, ...]:
    return (len(error.absolute_path), relevance(error))


def _field_error(error: SchemaError) -> FieldError:
    expected: Any = error.validator_value
    if error.validator == "required":
        # "'to' is a required property" -> the missing name
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in error.validator_value if name not in instance]
        expected = missing[0] if missing else None
    return FieldError(tuple(error.absolute_path), str(error.validator), error.message, expected, error.instance)
