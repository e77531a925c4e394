"""Loads every JSON Schema once at startup and compiles one validator per operation.

jsonschema is the source of truth (draft 2020-12, every error reported). It walks ``$ref``s in Python, which
costs ~0.2 ms per request, so each schema is also compiled by jsonschema-rs (draft 2020-12 in Rust, the same
files and ``$ref``s, no network): valid bodies, the hot path, only pay for its ``is_valid`` (under a
microsecond for a send); invalid ones are re-checked by jsonschema for the full error list, and accepted if
jsonschema finds nothing (e.g. ``"pattern": "^[0-9]+$"`` and ``"123\\n"``: Python's ``$`` matches before a
final newline, ECMA 262's does not).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
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
def _documents(root: Path) -> tuple[tuple[str, Any], ...]:
    """(uri, contents) of every schema file, each with its ``$id``."""
    documents = []
    for file in sorted(root.rglob("*.json")):
        contents = orjson.loads(file.read_bytes())
        uri = BASE_URI + file.relative_to(root).as_posix()
        contents.setdefault("$id", uri)
        documents.append((uri, contents))
    return tuple(documents)


@cache
def _registry(root: Path) -> Registry:
    return Registry().with_resources((uri, Resource.from_contents(doc)) for uri, doc in _documents(root))


@cache
def _rs_registry(root: Path) -> Any:
    return jsonschema_rs.Registry(list(_documents(root)), retriever=_no_retrieval)


def _no_retrieval(uri: str) -> Any:
    raise LookupError(f"schema {uri} is not among the packaged schemas (nothing is fetched)")


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
        try:
            if fast is not None and fast(body):
                return
        except Exception:  # a value the Rust side cannot take: jsonschema decides
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
    return Draft202012Validator(schema, registry=registry), _fast_validator(root, schema)


def _fast_validator(root: Path, schema: Any) -> Any:
    """jsonschema-rs's ``is_valid`` for the schema, or None when it cannot compile it (jsonschema alone then)."""
    try:
        return jsonschema_rs.validator_for(schema, registry=_rs_registry(root)).is_valid
    except (ValueError, LookupError, jsonschema_rs.ReferencingError):
        return None


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
