"""Schema validation: the fast check (jsonschema-rs) never lets through a body jsonschema rejects.

Every golden request body, and bodies derived from it by seeded mutations (a field removed, added, or given
another type or value), is checked by both; the fast check may be stricter (jsonschema then decides), never
more lenient."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from support.golden import Golden, load_all

from sandbox.core.resources import data_path
from sandbox.core.validation import _compile

VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.5, 2**40, "", "x", "123", "123\n", "2024-01-01", [], [1], ["a"],
                     {}, {"a": 1}]


def schema_of(golden: Golden) -> str | None:
    name = f"{golden.vendor}/{golden.operation}"
    return name if (data_path("schemas") / f"{name}.json").is_file() else None


CASES = [g for g in load_all() if "body" in g.request and schema_of(g) is not None]


def mutated(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    paths: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        paths.append(path)
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            walk(child, [*path, key])

    walk(doc, [])
    path = rng.choice(paths)
    if not path:
        return rng.choice(VALUES)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    roll = rng.random()
    if roll < 0.3 and isinstance(parent, dict):
        del parent[path[-1]]
    elif roll < 0.4 and isinstance(parent, dict):
        parent["zz_extra"] = rng.choice(VALUES)
    else:
        parent[path[-1]] = rng.choice(VALUES)
    return doc


@pytest.mark.parametrize("golden", CASES, ids=[g.id for g in CASES])
def test_the_fast_check_is_never_more_lenient_than_jsonschema(golden: Golden) -> None:
    full, fast = _compile(data_path("schemas"), schema_of(golden))
    assert fast is not None, "every packaged schema compiles for the fast check"
    rng = random.Random(golden.id)
    body = golden.request["body"]
    for number in range(60):
        candidate = body if number == 0 else mutated(body if rng.random() < 0.5 else mutated(body, rng), rng)
        if fast(candidate):
            assert not list(full.iter_errors(candidate)), candidate
