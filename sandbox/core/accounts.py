"""The ``--accounts`` file: valid credentials per vendor, one section per vendor name.

Every section is checked at startup (a section that is not an object of non-empty credentials mapping to what
the vendor expects stops the start naming the JSON path), so a malformed file never starts a server that then
answers every request of that vendor with a 500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson


class AccountsError(ValueError):
    """A bad ``--accounts`` file: the message names the file, the JSON path and the expected shape."""


def load_accounts(path: Path | None, vendors: Sequence[str],
                  shapes: Mapping[str, tuple[tuple[type, ...], str]] | None = None) -> dict[str, Any]:
    """``{"<vendor>": <that vendor's section>}``; a vendor without a section accepts any credential.

    ``shapes`` maps a vendor to (the types a credential may map to, an example of the section)."""
    if path is None:
        return {}
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise AccountsError(f"accounts file {path}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise AccountsError(f"accounts file {path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AccountsError(f"accounts file {path}: expected a JSON object keyed by vendor ({', '.join(vendors)})")
    unknown = sorted(set(data) - set(vendors))
    if unknown:
        raise AccountsError(f"accounts file {path}: unknown vendor section(s) {unknown}; known: {list(vendors)}")
    for vendor, section in data.items():
        values, example = (shapes or {}).get(vendor, ((object,), "{...}"))
        where = f"accounts file {path}: $.{vendor}"
        if not isinstance(section, dict):
            raise AccountsError(f"{where} must be an object like {example}, got {_kind(section)}")
        for credential, value in section.items():
            if not credential.strip():
                raise AccountsError(f"{where} has an empty credential; expected {example}")
            if isinstance(value, bool) or not isinstance(value, values):
                raise AccountsError(f'{where}["{credential}"] is {_kind(value)}; expected {example}')
    return data


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null",
             int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)
