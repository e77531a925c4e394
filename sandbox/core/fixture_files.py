"""Reading the user-replaceable fixture files (``settings.fixture(...)``) that providers load at startup.

A bad file must stop startup with a message naming the file, the JSON path and the problem; every provider
raises ``FixtureError`` for that, and reads files through ``read_fixture``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


class FixtureError(ValueError):
    """An unusable fixture file: ``<file>: <JSON path>: <problem>``, built from those three parts or given
    whole (for checks that already word it so, e.g. a jsonschema error's ``json_path`` and message)."""

    def __init__(self, path: Path | str, where: str | None = None, problem: str | None = None) -> None:
        super().__init__(str(path) if where is None else f"{path}: {where}: {problem}")


def read_fixture(path: Path) -> Any:
    """The parsed JSON of ``path``; FixtureError when it cannot be read or is not JSON."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise FixtureError(path, "$", f"cannot read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise FixtureError(path, "$", f"not valid JSON: {exc}") from None
