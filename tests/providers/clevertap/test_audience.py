"""CQL (``where``) -> neutral tree: one row per translator rule and operator, then evaluation semantics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sandbox.population.audience import Index, evaluate, validate_tree
from sandbox.providers.clevertap import errors
from sandbox.providers.clevertap.audience import CqlError, segment_tree, translate

D20250101 = 1735689600
END_20250131 = 1738367999
PARSE = errors.WHERE_PARSE_FAILED


def field(name: str, operator: str, value: Any = None) -> dict[str, Any]:
    cond = {"name": name, "operator": operator}
    if value is not None:
        cond["value"] = value
    return {"common_profile_properties": {"profile_fields": [cond]}}


TRANSLATIONS = [
    ("empty where is the whole base", {}, {"everyone": True}),
    ("event with window, inclusive UTC days", {"event_name": "Charged", "from": 20250101, "to": 20250131},
     {"event": "Charged", "from": D20250101, "to": END_20250131}),
    ("event without window: all time", {"event_name": "Charged"}, {"event": "Charged"}),
    ("from/to without an event are ignored", {"from": 20250101, "to": 20250131}, {"everyone": True}),
    ("event properties narrow occurrences",
     {"event_name": "Charged", "event_properties": [{"name": "Amount", "operator": "greater_than", "value": 50}]},
     {"event": "Charged", "properties": [{"name": "Amount", "op": "greater_than", "value": 50}]}),
    ("operator defaults to equals", {"event_name": "E", "event_properties": [{"name": "p", "value": "x"}]},
     {"event": "E", "properties": [{"name": "p", "op": "equals", "value": "x"}]}),
    ("equals", field("Customer Type", "equals", "Platinum"),
     {"attribute": "Customer Type", "op": "equals", "value": "Platinum"}),
    ("array values are kept for OR", field("Customer Type", "equals", ["Gold", "Platinum"]),
     {"attribute": "Customer Type", "op": "equals", "value": ["Gold", "Platinum"]}),
    ("not_equals excludes users without the property", field("Plan", "not_equals", "free"),
     {"all": [{"attribute": "Plan", "op": "exists"}, {"attribute": "Plan", "op": "not_equals", "value": "free"}]}),
    ("contains", field("Name", "contains", "an"), {"attribute": "Name", "op": "contains", "value": "an"}),
    ("does_not_contain excludes users without the property", field("Name", "does_not_contain", "an"),
     {"all": [{"attribute": "Name", "op": "exists"}, {"attribute": "Name", "op": "does_not_contain", "value": "an"}]}),
    ("exists takes no value", field("Last Order Date", "exists"), {"attribute": "Last Order Date", "op": "exists"}),
    ("does_not_exist", field("Last Order Date", "does_not_exist"),
     {"attribute": "Last Order Date", "op": "does_not_exist"}),
    ("greater_than", field("Age", "greater_than", 30), {"attribute": "Age", "op": "greater_than", "value": 30}),
    ("greater_than_equals", field("Age", "greater_than_equals", "30"),
     {"attribute": "Age", "op": "greater_than_equals", "value": "30"}),
    ("less_than", field("Age", "less_than", 30.5), {"attribute": "Age", "op": "less_than", "value": 30.5}),
    ("less_than_equals", field("Age", "less_than_equals", 30),
     {"attribute": "Age", "op": "less_than_equals", "value": 30}),
    ("booleans as strings", field("Newsletter", "equals", "True"),
     {"attribute": "Newsletter", "op": "equals", "value": "True"}),
    ("dotted property names", field("test.dot7", "equals", "x"),
     {"attribute": "test.dot7", "op": "equals", "value": "x"}),
    ("several profile fields are ANDed",
     {"common_profile_properties": {"profile_fields": [{"name": "A", "operator": "equals", "value": 1},
                                                       {"name": "B", "operator": "equals", "value": 2}]}},
     {"all": [{"attribute": "A", "op": "equals", "value": 1}, {"attribute": "B", "op": "equals", "value": 2}]}),
    ("event and profile filter are ANDed", {"event_name": "Charged", **field("Age", "less_than", 30)},
     {"all": [{"event": "Charged"}, {"attribute": "Age", "op": "less_than", "value": 30}]}),
    ("did_all", {"advanced_query": {"did_all": [{"event_name": "App Launched", "from": 20250101, "to": 20250131,
                                                 "operator": "greater_than_equals", "value": 5}]}},
     {"all": [{"event": "App Launched", "from": D20250101, "to": END_20250131,
               "count": {"op": "greater_than_equals", "value": 5}}]}),
    ("did_any", {"advanced_query": {"did_any": [{"event_name": "A"}, {"event_name": "B"}]}},
     {"any": [{"event": "A"}, {"event": "B"}]}),
    ("did_not", {"advanced_query": {"did_not": [{"event_name": "A"}, {"event_name": "B"}]}},
     {"all": [{"not": {"event": "A"}}, {"not": {"event": "B"}}]}),
    ("count operator alone defaults the value to 1",
     {"advanced_query": {"did_all": [{"event_name": "A", "operator": "equals"}]}},
     {"all": [{"event": "A", "count": {"op": "equals", "value": 1}}]}),
    ("unknown keys are ignored", {"session_properties": [{"x": 1}], "common_profile_properties": {"geo_fields": []},
                                  "": "odd"}, {"everyone": True}),
]


@pytest.mark.parametrize(("where", "tree"), [row[1:] for row in TRANSLATIONS], ids=[row[0] for row in TRANSLATIONS])
def test_translation(where: dict[str, Any], tree: dict[str, Any]) -> None:
    translated = translate(where)
    assert translated == tree
    validate_tree(translated)


FAILURES = [
    ("where not an object", [], PARSE),
    ("from after to", {"event_name": "E", "from": 20250201, "to": 20250101}, errors.WHERE_FROM_AFTER_TO),
    ("from after to without an event", {"from": 20250201, "to": 20250101}, errors.WHERE_FROM_AFTER_TO),
    ("date not YYYYMMDD", {"event_name": "E", "from": 2025011, "to": 20250101}, PARSE),
    ("impossible date", {"event_name": "E", "from": 20250230, "to": 20250301}, PARSE),
    ("event name not a string", {"event_name": 5}, PARSE),
    ("event_properties without an event", {"event_properties": []}, PARSE),
    ("unknown operator", field("Age", "between", [1, 2]), PARSE),
    ("object value", field("Age", "equals", {"a": 1}), PARSE),
    ("boolean value (CleverTap wants 'True'/'False')", field("Newsletter", "equals", True), PARSE),
    ("empty array value", field("Age", "equals", []), PARSE),
    ("numeric operator with text", field("Age", "greater_than", "old"), PARSE),
    ("contains with a number", field("Name", "contains", 5), PARSE),
    ("missing value", field("Age", "equals"), PARSE),
    ("profile_fields not an array", {"common_profile_properties": {"profile_fields": {}}}, PARSE),
    ("did_all empty", {"advanced_query": {"did_all": []}}, PARSE),
    ("count operator contains", {"advanced_query": {"did_all": [{"event_name": "A", "operator": "contains"}]}},
     PARSE),
    ("count value text", {"advanced_query": {"did_all": [{"event_name": "A", "value": "five"}]}}, PARSE),
]


@pytest.mark.parametrize(("where", "wire"), [row[1:] for row in FAILURES], ids=[row[0] for row in FAILURES])
def test_failure(where: Any, wire: str) -> None:
    with pytest.raises(CqlError) as caught:
        translate(where)
    assert caught.value.wire == wire


def test_segment_tree() -> None:
    assert segment_tree(101) == {"member_of": "101"}
    assert segment_tree("all") == {"everyone": True}


PEOPLE = [
    {"identity": "a", "customer_type": "Gold", "properties": {"Newsletter": True, "Plan": "free"},
     "events": [{"name": "Charged", "ts": D20250101 + 10, "props": {"Amount": 80, "Items": ["x", "y"]}}]},
    {"identity": "b", "customer_type": "Platinum", "properties": {"Newsletter": "false"},
     "events": [{"name": "Charged", "ts": D20250101 - 10, "props": {"Amount": 20, "Items": ["z"]}}]},
    {"identity": "c", "customer_type": "Bronze", "properties": {"Plan": "pro"}, "events": []},
]
SEMANTICS = [
    ("array OR", field("Customer Type", "equals", ["Gold", "Platinum"]), ["a", "b"]),
    ("True matches a boolean", field("Newsletter", "equals", "True"), ["a"]),
    ("False matches a boolean-like string", field("Newsletter", "equals", "False"), ["b"]),
    ("not_equals leaves out users without the property", field("Plan", "not_equals", "free"), ["c"]),
    ("window", {"event_name": "Charged", "from": 20250101, "to": 20250131}, ["a"]),
    ("list property OR", {"event_name": "Charged", "event_properties": [
        {"name": "Items", "operator": "equals", "value": ["z", "q"]}]}, ["b"]),
    ("did_not", {"advanced_query": {"did_not": [{"event_name": "Charged"}]}}, ["c"]),
    ("count", {"advanced_query": {"did_all": [{"event_name": "Charged", "operator": "equals", "value": 0}]}}, ["c"]),
]


@pytest.mark.parametrize(("where", "who"), [row[1:] for row in SEMANTICS], ids=[row[0] for row in SEMANTICS])
def test_evaluation(where: dict[str, Any], who: list[str]) -> None:
    index = Index.build(PEOPLE)
    rows = np.flatnonzero(evaluate(translate(where), index))
    assert index.identities(rows) == who
