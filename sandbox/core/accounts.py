"""The ``--accounts`` file: valid credentials per vendor, one section per vendor name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


def load_accounts(path: Path | None, vendors: list[str]) -> dict[str, Any]:
    """``{"<vendor>": <that vendor's section>}``; a vendor without a section accepts any credential."""
    if path is None:
        return {}
    try:
        data = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ValueError(f"accounts file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"accounts file {path}: expected a JSON object keyed by vendor ({', '.join(vendors)})")
    unknown = sorted(set(data) - set(vendors))
    if unknown:
        raise ValueError(f"accounts file {path}: unknown vendor section(s) {unknown}; known: {vendors}")
    return data
