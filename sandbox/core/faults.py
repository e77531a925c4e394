"""Fault rules: what to match, which effect, how often; seeded so two runs with the same seed repeat.

A rule matches on vendor, operation or path, tenant, method and body fields; it answers with a named
vendor error (rendered by that vendor), any status with a vendor-shaped or custom body, a delay (fixed or
drawn from a distribution), a dropped connection, an empty answer, malformed or truncated JSON, or a body
trickled over a duration. ``times`` caps how many requests it hits, ``after`` skips the first N matches,
``probability`` hits a share of them. Every random draw comes from (seed, tenant, rule, match number), never
from wall time, so a run repeats whatever other tenants do. The vendor-free rendering and the pipeline hook
live in ``sandbox.core.gate``.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from sandbox.core.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    SandboxError,
    TooManyRequests,
    Unauthorized,
    Unexpected,
)
from sandbox.records.journal import dotted

NAMED_ERRORS: dict[str, tuple[type[SandboxError], int]] = {
    "rate_limited": (TooManyRequests, 429),
    "server_error": (Unexpected, 500),
    "bad_gateway": (Unexpected, 502),
    "unavailable": (Unexpected, 503),
    "gateway_timeout": (Unexpected, 504),
    "unauthorized": (Unauthorized, 401),
    "forbidden": (Forbidden, 403),
    "not_found": (NotFound, 404),
    "bad_request": (BadRequest, 400),
}
"""Effect name -> the neutral error each vendor renders in its own shape, and the status answered."""
BY_STATUS: dict[int, type[SandboxError]] = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
                                            429: TooManyRequests}
"""A bare ``status`` is rendered as this error's vendor body (5xx and others: the vendor's server error)."""
BODY_EFFECTS = ("drop", "empty", "malformed", "truncated", "slow_body")
"""drop: close the connection without answering (the request is not processed); empty: the answer with no
body; malformed: the JSON with a stray comma before its closing bracket; truncated: the first half of the
JSON; slow_body: the answer trickled in chunks over ``duration_ms``."""
EFFECTS = (*NAMED_ERRORS, *BODY_EFFECTS)
MAX_MS = 300_000
"""Longest delay or trickle a rule may ask for (five minutes)."""
SLOW_BODY_MS = 2_000
SLOW_BODY_CHUNKS = 10
MATCH_FIELDS = ("tenant", "vendor", "operation", "path", "method", "body")
FIELDS = (*MATCH_FIELDS, "effect", "status", "response_body", "headers", "delay_ms", "duration_ms", "chunks",
          "times", "after", "probability")
DISTRIBUTIONS = ("uniform", "lognormal")
_ABSENT = object()


@dataclass(slots=True)
class Rule:
    id: str
    spec: dict[str, Any]
    """The rule as posted (validated), without ``id``: what GET shows and what seeds its draws."""
    fingerprint: bytes
    matched: int = 0
    hits: int = 0
    matched_by_tenant: Counter[str | None] = field(default_factory=Counter)

    def get(self, name: str, default: Any = None) -> Any:
        return self.spec.get(name, default)

    @property
    def tenant(self) -> str | None:
        return self.spec.get("tenant")

    @property
    def effect(self) -> str:
        """What the journal and metrics call it: the effect name, else ``status`` or ``delay``."""
        if "effect" in self.spec:
            return str(self.spec["effect"])
        if "status" in self.spec or "response_body" in self.spec:
            return "status"
        return "delay"

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, **self.spec, "effect": self.effect, "matched": self.matched, "hits": self.hits}

    def matches(self, tenant: str | None, vendor: str, operation: str, paths: tuple[str, ...], method: str,
                body: Any) -> bool:
        spec = self.spec
        if "tenant" in spec and spec["tenant"] != tenant:
            return False
        if "vendor" in spec and spec["vendor"] != vendor:
            return False
        if "operation" in spec and spec["operation"] != operation:
            return False
        if "path" in spec and spec["path"] not in paths:
            return False
        if "method" in spec and spec["method"] != method:
            return False
        return all(_field_matches(body, path, wanted) for path, wanted in spec.get("body", {}).items())


def _field_matches(doc: Any, path: str, wanted: Any) -> bool:
    node = dotted(doc, path, _ABSENT)
    if node is _ABSENT:
        return False
    return node == wanted or (isinstance(node, list) and not isinstance(wanted, list) and wanted in node)


class FaultBook:
    """The rules of one sandbox, in the order they were added (the first matching rule wins)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rules: dict[str, Rule] = {}
        self._next = 1
        self.injected: Counter[tuple[str, str]] = Counter()
        """(vendor, effect) -> faults injected (metrics)."""

    def add(self, spec: Mapping[str, Any], tenant: str | None = None) -> Rule:
        """Validate and store a rule (``tenant`` from the query string unless the rule names one)."""
        clean = validate(spec)
        if tenant is not None and clean.setdefault("tenant", tenant) != tenant:
            raise ValueError(f"the rule names tenant {clean['tenant']!r} but the query says {tenant!r}")
        rule = Rule(f"f{self._next}", clean, orjson.dumps(clean, option=orjson.OPT_SORT_KEYS))
        self._next += 1
        self._rules[rule.id] = rule
        return rule

    def get(self, rule_id: str) -> Rule | None:
        return self._rules.get(rule_id)

    def remove(self, rule_id: str) -> Rule | None:
        return self._rules.pop(rule_id, None)

    def rules(self, tenant: str | None = None) -> list[Rule]:
        """Every rule, or those a tenant sees (its own and the every-tenant ones)."""
        return [r for r in self._rules.values() if tenant is None or r.tenant in (None, tenant)]

    def clear(self, tenant: str | None = None) -> int:
        """Remove every rule, or a tenant's own rules; returns how many went."""
        doomed = [r.id for r in self._rules.values() if tenant is None or r.tenant == tenant]
        for rule_id in doomed:
            del self._rules[rule_id]
        return len(doomed)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def pick(self, tenant: str | None, vendor: str, operation: str, paths: tuple[str, ...], method: str,
             body: Any) -> tuple[Rule, int] | None:
        """The first rule that matches and fires for this request, with the request's draw number."""
        for rule in self._rules.values():
            if not rule.matches(tenant, vendor, operation, paths, method, body):
                continue
            draw = rule.matched_by_tenant[tenant]
            rule.matched_by_tenant[tenant] += 1
            rule.matched += 1
            if rule.matched <= rule.get("after", 0):
                continue
            times = rule.get("times")
            if times is not None and rule.hits >= times:
                continue
            probability = rule.get("probability")
            if probability is not None and self.uniform(rule, tenant, draw, b"p") >= probability:
                continue
            rule.hits += 1
            self.injected[(vendor, rule.effect)] += 1
            return rule, draw
        return None

    def uniform(self, rule: Rule, tenant: str | None, draw: int, salt: bytes) -> float:
        """A number in [0, 1) from (seed, tenant, rule, draw number): the same in every run."""
        digest = hashlib.blake2b(b"\0".join((str(self.seed).encode(), (tenant or "").encode(), rule.fingerprint,
                                             str(draw).encode(), salt)), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def delay_ms(self, rule: Rule, tenant: str | None, draw: int) -> float:
        spec = rule.get("delay_ms")
        if spec is None:
            return 0.0
        if not isinstance(spec, dict):
            return float(spec)
        u = self.uniform(rule, tenant, draw, b"d")
        if spec["distribution"] == "uniform":
            return spec["lower"] + u * (spec["upper"] - spec["lower"])
        # lognormal: median * exp(sigma * z), z standard normal by Box-Muller from two seeded uniforms
        v = self.uniform(rule, tenant, draw, b"e")
        z = math.sqrt(-2.0 * math.log(1.0 - u)) * math.cos(2.0 * math.pi * v)
        return min(spec["median"] * math.exp(spec["sigma"] * z), MAX_MS)


# -- validation -----------------------------------------------------------------------------------
def validate(spec: Any) -> dict[str, Any]:
    """The rule with its values checked; ValueError names the first thing wrong."""
    if not isinstance(spec, Mapping):
        raise ValueError("a fault rule is a JSON object, e.g. "
                         '{"vendor": "...", "operation": "...", "status": 503, "times": 2}')
    unknown = sorted(set(spec) - set(FIELDS) - {"id"})
    if unknown:
        raise ValueError(f"unknown rule field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    out: dict[str, Any] = {}
    for name in ("tenant", "vendor", "operation", "path"):
        if spec.get(name) is not None:
            out[name] = _text(spec[name], name)
    if spec.get("method") is not None:
        out["method"] = _text(spec["method"], "method").upper()
    if spec.get("body") is not None:
        if not isinstance(spec["body"], Mapping) or not all(isinstance(k, str) for k in spec["body"]):
            raise ValueError('body must be an object of dotted field paths and values, e.g. {"to.Identity": "u1"}')
        out["body"] = dict(spec["body"])
    if spec.get("effect") is not None:
        if spec["effect"] not in EFFECTS:
            raise ValueError(f"unknown effect {spec['effect']!r}; known: {', '.join(EFFECTS)}")
        out["effect"] = spec["effect"]
    if spec.get("status") is not None:
        out["status"] = _int(spec["status"], "status", 100, 599)
    if "response_body" in spec:
        out["response_body"] = spec["response_body"]
    if spec.get("headers") is not None:
        headers = spec["headers"]
        if not isinstance(headers, Mapping) or not all(isinstance(v, (str, int, float)) for v in headers.values()):
            raise ValueError("headers must be an object of header names and values")
        out["headers"] = {str(k): str(v) for k, v in headers.items()}
    if spec.get("delay_ms") is not None:
        out["delay_ms"] = _delay(spec["delay_ms"])
    if spec.get("duration_ms") is not None:
        out["duration_ms"] = _number(spec["duration_ms"], "duration_ms", 0, MAX_MS)
    if spec.get("chunks") is not None:
        out["chunks"] = _int(spec["chunks"], "chunks", 1, 10_000)
    if spec.get("times") is not None:
        out["times"] = _int(spec["times"], "times", 1, None)
    if spec.get("after") is not None:
        out["after"] = _int(spec["after"], "after", 0, None)
    if spec.get("probability") is not None:
        out["probability"] = _number(spec["probability"], "probability", 0, 1)
    if not ({"effect", "status", "response_body", "delay_ms"} & out.keys()):
        raise ValueError("a rule needs an effect: effect, status, response_body or delay_ms "
                         f"(effects: {', '.join(EFFECTS)})")
    if out.get("effect") in ("drop", "empty", "malformed", "truncated") and "response_body" in out:
        raise ValueError(f"effect {out['effect']} replaces the body; response_body cannot be used with it")
    return out


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}")
    return value


def _int(value: Any, name: str, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer from {low}" + (f" to {high}" if high is not None else " up"))
    return value


def _delay(value: Any) -> Any:
    """A fixed number of ms, or {"distribution": "uniform", "lower", "upper"} / {"distribution": "lognormal",
    "median", "sigma"} (WireMock's names)."""
    if not isinstance(value, Mapping):
        return _number(value, "delay_ms", 0, MAX_MS)
    kind = value.get("distribution")
    if kind == "uniform" and set(value) == {"distribution", "lower", "upper"}:
        lower = _number(value["lower"], "delay_ms.lower", 0, MAX_MS)
        upper = _number(value["upper"], "delay_ms.upper", lower, MAX_MS)
        return {"distribution": kind, "lower": lower, "upper": upper}
    if kind == "lognormal" and set(value) == {"distribution", "median", "sigma"}:
        return {"distribution": kind, "median": _number(value["median"], "delay_ms.median", 0, MAX_MS),
                "sigma": _number(value["sigma"], "delay_ms.sigma", 0, 10)}
    raise ValueError('delay_ms is a number of milliseconds, {"distribution": "uniform", "lower": ms, "upper": ms} '
                     'or {"distribution": "lognormal", "median": ms, "sigma": s}')
