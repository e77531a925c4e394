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


# -- the --fixtures overlay -------------------------------------------------------------------------------
ID_KEYS = ("id", "campaign_id", "template_id", "list_id", "segment_id")
"""Keys that identify an item in a fixture list: overlay items replace packaged items with the same id."""
IGNORED_FILES = ("README", "readme")


def packaged_fixtures() -> dict[str, Path]:
    """Every file the server reads from ``fixtures/``, by its path relative to it (``clevertap/account.json``)."""
    from sandbox.core.resources import data_path

    root = data_path("fixtures")
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*.json"))}


def check_overlay(directory: Path) -> None:
    """A ``--fixtures`` directory must exist and hold only files the sandbox knows (FixtureError says which
    and what was probably meant)."""
    if not directory.is_dir():
        raise FixtureError(f"--fixtures {directory}: no such directory (create it, e.g. with "
                           f"'campaign-sandbox fixtures export {directory}', or drop the option)")
    known = {k: v for k, v in packaged_fixtures().items() if not k.startswith("population/")}
    for path in sorted(directory.rglob("*")):
        if path.is_dir() or path.name.startswith(".") or path.name.startswith(IGNORED_FILES):
            continue
        relative = path.relative_to(directory).as_posix()
        if relative in known:
            continue
        if relative.startswith("population/"):
            raise FixtureError(f"{path}: a population profile is not part of the overlay; start with "
                               f"--population {path}")
        near = [k for k in known if k.rsplit("/", 1)[-1] == path.name]
        meant = f"; did you mean {directory / near[0]}?" if len(near) == 1 else ""
        raise FixtureError(f"{path}: the sandbox reads no such fixture file{meant} (known: {', '.join(known)})")


def load_fixture(settings: Any, relative: str) -> tuple[Any, Path]:
    """The fixture ``relative`` as the server uses it: the packaged document with the overlay's copy merged
    in (dict keys merged, list items with an id replaced or added by id), or the overlay's alone when it says
    ``"replace": true``. Also the file to name in error messages (the overlay's when it has one)."""
    packaged_path = packaged_fixtures().get(relative)
    overlay_path = settings.fixtures / relative if settings.fixtures is not None else None
    if overlay_path is None or not overlay_path.is_file():
        if packaged_path is None:
            raise FixtureError(relative, "$", "no such packaged fixture")
        return read_fixture(packaged_path), packaged_path
    overlay = read_fixture(overlay_path)
    if packaged_path is None or (isinstance(overlay, dict) and overlay.get("replace") is True):
        if isinstance(overlay, dict):
            overlay = {k: v for k, v in overlay.items() if k != "replace"}
        return overlay, overlay_path
    return merge(read_fixture(packaged_path), overlay), overlay_path


def merge(base: Any, overlay: Any) -> Any:
    """Overlay ``overlay`` on ``base``: objects by key, lists of objects by their id key, lists of scalars as
    a union (base order first); anything else: the overlay's value."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            if key == "replace":
                continue
            out[key] = merge(base[key], value) if key in base else value
        return out
    if isinstance(base, list) and isinstance(overlay, list):
        id_key = _id_key(base + overlay)
        if id_key is not None:
            by_id = {str(item[id_key]): item for item in base}
            for item in overlay:
                by_id[str(item[id_key])] = item
            return list(by_id.values())
        if all(not isinstance(v, (dict, list)) for v in base + overlay):
            return base + [v for v in overlay if v not in base]
    return overlay


def _id_key(items: list[Any]) -> str | None:
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    return next((k for k in ID_KEYS if all(k in i for i in items)), None)
