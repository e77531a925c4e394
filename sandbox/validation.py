"""Loads every JSON Schema once at startup and compiles one validator per operation."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import relevance
from referencing import Registry, Resource

from .errors import FieldError, ValidationFailed
from .operations import Operation
from .resources import data_path

BASE_URI = "https://campaign-sandbox.invalid/schemas/"


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
        registry = _registry(root)
        self._compiled: dict[str, Draft202012Validator] = {}
        for op in operations:
            if op.schema is None or op.schema in self._compiled:
                continue
            uri = BASE_URI + op.schema + ".json"
            try:
                schema = registry.contents(uri)
            except LookupError:
                missing = f"operation {op.key}: schema file schemas/{op.schema}.json is missing"
                raise FileNotFoundError(missing) from None
            Draft202012Validator.check_schema(schema)
            self._compiled[op.schema] = Draft202012Validator(schema, registry=registry)

    def check(self, operation: Operation, body: Any) -> None:
        if operation.schema is None:
            return
        errors = sorted(self._compiled[operation.schema].iter_errors(body), key=_order)
        if errors:
            raise ValidationFailed([_field_error(e) for e in errors])


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
