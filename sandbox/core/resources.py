"""Where the packaged ``schemas/`` and ``fixtures/`` live: inside the installed package, or the source tree."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_path(name: str) -> Path:
    package = Path(__file__).parent.parent
    packaged = package / name
    if packaged.is_dir():
        return packaged
    source_tree = package.parent / name
    if source_tree.is_dir():
        return source_tree
    raise FileNotFoundError(f"campaign-sandbox data folder {name!r} is missing from the installation")
