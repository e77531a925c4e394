"""Deterministic fake user population built from a population profile (JSON).

A population profile (``fixtures/population/default.json``) declares the size, seed, reference date and
the distributions. ``generate`` turns it into a list of JSON-serialisable user dicts:

``identity``/``external_id`` (same string), ``objectId`` (``__`` + 32 hex), ``internal_id`` (24 hex, the
"internal" user id some vendors address users by), ``email``,
``phone`` (E.164), ``name``, ``first_name``, ``last_name``, ``gender`` (M/F/O), ``dob`` (YYYY-MM-DD), ``age``,
``city``, ``country``, ``language``, ``locale``, ``time_zone`` (IANA), ``customer_type``
(Platinum/Gold/Silver/Bronze; queried as the attribute "Customer Type", see
``sandbox.population.audience.index.ATTRIBUTE_ALIASES``), ``signup_date`` (ISO 8601 Z), ``lifetime_value``,
``last_active`` (epoch seconds), ``properties`` (custom properties by display name), ``devices``
(``[{"platform": android|ios|web, "token", "last_active"}]``), ``reachability``
(``{channel: {"state": opted_in|subscribed|unsubscribed, "invalid": bool, "dnd": bool}}`` for push,
webpush, email, sms and whatsapp) and ``events`` (``[{"name", "ts", "props"}]`` sorted by ``ts``, spread
over ``history_days`` before the reference date).

Determinism: one ``numpy.random.Generator`` seeded with the seed draws every column at once (``build_frame``
returns them as a ``sandbox.population.frame.Frame``; a million users take seconds), and Faker only fills
small name and city pools (``pool_size`` per locale) from instances seeded from the same seed. Same profile,
seed, size and reference date (and Faker version) give identical users. Nothing reads the wall clock.
"""

from __future__ import annotations

import gc
import os
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from sandbox.population.frame import PLATFORMS, STATES, TOP_FIELDS, Devices, Events, Field, Frame, Reach, starts

ProgressCallback = Callable[[int, int], None]
Profile = dict[str, Any]

DEFAULT_REFERENCE_DATE = "2026-01-01T00:00:00Z"
GENERATOR_VERSION = 3  # bump whenever generate() output changes for the same inputs
CHANNELS: tuple[str, ...] = ("push", "webpush", "email", "sms", "whatsapp")
_DAY = 86400


BYTES_PER_USER = 1_000
"""Resident memory one generated user costs at its peak: building the columns, then serving estimates over
them (measured with ``benchmarks/estimate.py``: 0.75 KB at a million users)."""
BASE_BYTES = 200_000_000
"""The server's own resident memory without a population."""


class PopulationError(ValueError):
    """A population that cannot be served (size 0, or more memory than the machine has); one line."""


def machine_memory() -> int | None:
    """Physical memory in bytes (``/proc/meminfo``'s MemTotal, else ``os.sysconf``), None if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def estimated_bytes(size: int) -> int:
    return BASE_BYTES + size * BYTES_PER_USER


def check_size(size: int, memory: int | None = None) -> None:
    """Refuse a population of ``size`` users that is empty or would not fit in the machine's memory."""
    if size <= 0:
        raise PopulationError(f"population size must be at least 1 (got {size})")
    memory = machine_memory() if memory is None else memory
    needed = estimated_bytes(size)
    if memory is not None and needed > memory:
        raise PopulationError(f"a population of {size:,} users needs about {needed / 2**30:.1f} GiB of memory; "
                              f"this machine has {memory / 2**30:.1f} GiB: choose a smaller --population-size")


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects (JSON documents,
    profiles, index lists): otherwise its full passes over the growing heap dominate the build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def default_profile_path() -> Path:
    """The packaged default profile (installed wheel copy first, then the source tree)."""
    here = Path(__file__).resolve().parent.parent
    for base in (here / "fixtures", here.parent / "fixtures"):
        candidate = base / "population" / "default.json"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("packaged fixtures/population/default.json not found")


def load_profile(source: str | Path | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Load a population profile. A user profile overlays the packaged default key by key (top level)."""
    base = orjson.loads(default_profile_path().read_bytes())
    if source is None:
        return base
    if isinstance(source, Mapping):
        user = dict(source)
    else:
        path = Path(source)
        try:
            user = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON: {exc}") from exc
        if not isinstance(user, dict):
            raise ValueError(f"{path}: a population profile must be a JSON object")
    base.update(user)
    _check_profile(base)
    return base


def _check_profile(profile: Mapping[str, Any]) -> None:
    for key, kind in (("locales", dict), ("customer_types", dict), ("events", list), ("products", list),
                      ("reachability", dict), ("devices", dict), ("custom_properties", list)):
        if not isinstance(profile.get(key), kind):
            raise ValueError(f"population profile: $.{key} must be a {kind.__name__}")
    if not profile["products"]:
        raise ValueError("population profile: $.products must not be empty")
    for i, event in enumerate(profile["events"]):
        if not isinstance(event, dict) or not isinstance(event.get("name"), str):
            raise ValueError(f"population profile: $.events[{i}] needs a string name")
    parse_timestamp(profile.get("reference_date", DEFAULT_REFERENCE_DATE))


def parse_timestamp(value: str | int | float) -> int:
    """ISO 8601 (``Z`` allowed) or epoch seconds -> epoch seconds."""
    if isinstance(value, int | float):
        return int(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"population profile: reference_date {value!r} is not ISO 8601") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


class _Weighted:
    """Weighted draws over the values of ``{value: weight}`` (a plain list: uniform), many at a time."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, spec: Mapping[str, float] | Sequence[Any]) -> None:
        if isinstance(spec, Mapping):
            self.values = list(spec.keys())
            weights = [float(w) for w in spec.values()]
        else:
            self.values = list(spec)
            weights = [1.0] * len(self.values)
        if not self.values:
            raise ValueError("population profile: an empty distribution")
        self.cum = np.cumsum(weights)
        self.total = float(self.cum[-1])

    def codes(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """``k`` draws, as positions in ``values``."""
        picked = np.searchsorted(self.cum, rng.random(k) * self.total, side="right")
        return np.minimum(picked, len(self.values) - 1)


def _interned(values: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """(distinct values, position of each of ``values`` among them): codes into a list without repeats."""
    seen: dict[tuple[type, Any], int] = {}
    remap = np.array([seen.setdefault((v.__class__, v), len(seen)) for v in values], dtype=np.int32)
    return [v for _, v in seen], remap


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


class _LocalePool:
    """Names and cities for one locale, drawn once from a seeded Faker."""

    def __init__(self, locale: str, spec: Mapping[str, Any], seed: int, size: int) -> None:
        from faker import Faker  # imported here: only population builds pay for it

        fake = Faker(locale)
        fake.seed_instance(seed)
        self.locale = locale
        self.male = [fake.first_name_male() for _ in range(size)]
        self.female = [fake.first_name_female() for _ in range(size)]
        self.last = [fake.last_name() for _ in range(size)]
        self.cities = [fake.city() for _ in range(size)]
        self.country = str(spec.get("country", locale.rsplit("_", 1)[-1]))
        self.language = str(spec.get("language", locale.split("_", 1)[0]))
        self.phone = str(spec.get("phone", "+1%##%######"))
        self.time_zones = _Weighted(spec.get("time_zones") or {"UTC": 1.0})


def _phones(pattern: str, rng: np.random.Generator, k: int) -> np.ndarray:
    """``k`` phone numbers of ``pattern`` (``#`` any digit, ``%`` a digit from 2 to 9) as bytes."""
    raw = pattern.encode("ascii", "replace")
    out = np.tile(np.frombuffer(raw, dtype=np.uint8), (k, 1))
    for mark, low in ((ord("#"), 0), (ord("%"), 2)):
        where = [i for i, ch in enumerate(raw) if ch == mark]
        if where:
            out[:, where] = rng.integers(low, 10, (k, len(where)), dtype=np.uint8) + ord("0")
    return out.view(f"S{len(raw)}").ravel() if len(raw) else np.full(k, b"", dtype="S1")


def _hex(rng: np.random.Generator, k: int, nbytes: int, prefix: bytes = b"") -> np.ndarray:
    digits = np.frombuffer(rng.bytes(k * nbytes).hex().encode(), dtype=np.uint8).reshape(k, 2 * nbytes)
    head = np.tile(np.frombuffer(prefix, dtype=np.uint8), (k, 1)) if prefix else np.empty((k, 0), np.uint8)
    return np.ascontiguousarray(np.hstack([head, digits])).view(f"S{len(prefix) + 2 * nbytes}").ravel()


ValueGen = Callable[[np.random.Generator, int, dict[str, Any]], Field]
"""Draws one property for ``k`` entities; the dict is shared by the properties of one event (its product,
its cart)."""


def _compile_value(spec: Mapping[str, Any], products: list[dict[str, Any]], ref_ts: int) -> ValueGen:
    """Turn one property spec of the profile file into a generator of a ``Field`` over ``k`` entities."""
    if "choice" in spec:
        weighted = _Weighted(spec["choice"])
        values, remap = _interned(weighted.values)
        return lambda rng, k, ctx: Field("code", remap[weighted.codes(rng, k)], values)
    if "bool" in spec:
        p = float(spec["bool"])
        return lambda rng, k, ctx: Field("code", (rng.random(k) < p).astype(np.int32), [False, True])
    if "int" in spec:
        lo, hi = (int(v) for v in spec["int"])
        return lambda rng, k, ctx: Field("int", rng.integers(lo, hi + 1, k, dtype=np.int64))
    if "float" in spec:
        flo, fhi = (float(v) for v in spec["float"])
        return lambda rng, k, ctx: Field("float", np.round(rng.uniform(flo, fhi, k), 2))
    if "sample" in spec:
        sample, remap = _interned(list(spec["sample"]))
        kmin, kmax = (int(v) for v in spec.get("k", [1, 1]))
        return lambda rng, k, ctx: _listed(*_pick(rng, k, len(sample), kmin, kmax, ordered=False), remap, sample)
    if "date_days" in spec:
        days = int(spec["date_days"])

        def date(rng: np.random.Generator, k: int, ctx: dict[str, Any]) -> Field:
            day = (ref_ts - rng.integers(0, days * _DAY, k)) // _DAY
            uniq, codes = np.unique(day, return_inverse=True)
            return Field("code", codes.astype(np.int32), [str(d) for d in uniq.astype("datetime64[D]").tolist()])

        return date
    if "product" in spec:
        values, remap = _interned([p[str(spec["product"])] for p in products])

        def product_field(rng: np.random.Generator, k: int, ctx: dict[str, Any]) -> Field:
            if "product" not in ctx:
                ctx["product"] = rng.integers(0, len(products), k)
            return Field("code", remap[ctx["product"]], values)

        return product_field
    if "cart" in spec:
        cmin, cmax = (int(v) for v in spec["cart"])
        names, remap = _interned([p["name"] for p in products])
        return lambda rng, k, ctx: _listed(*_cart(rng, k, ctx, len(products), cmin, cmax), remap, names)
    if "cart_amount" in spec:
        prices = np.array([float(p["price"]) for p in products])

        def amount(rng: np.random.Generator, k: int, ctx: dict[str, Any]) -> Field:
            rows, chosen = _cart(rng, k, ctx, len(products), 1, 1)
            return Field("float", np.round(np.bincount(rows, weights=prices[chosen], minlength=k), 2))

        return amount
    raise ValueError(f"population profile: unknown property spec {dict(spec)!r}")


def _pick(rng: np.random.Generator, k: int, choices: int, kmin: int, kmax: int, *,
          ordered: bool) -> tuple[np.ndarray, np.ndarray]:
    """(entity, choice) of ``kmin..kmax`` distinct choices per entity; ``ordered``: ascending per entity."""
    sizes = rng.integers(kmin, min(kmax, choices) + 1, k)
    perm = np.argsort(rng.random((k, choices)), axis=1)
    taken = np.arange(choices)[None, :] < sizes[:, None]
    if ordered:
        chosen = np.zeros((k, choices), dtype=bool)
        chosen[np.nonzero(taken)[0], perm[taken]] = True
        rows, picks = np.nonzero(chosen)
        return rows, picks
    return np.repeat(np.arange(k), sizes), perm[taken]


def _cart(rng: np.random.Generator, k: int, ctx: dict[str, Any], choices: int, kmin: int,
          kmax: int) -> tuple[np.ndarray, np.ndarray]:
    if "cart" not in ctx:
        ctx["cart"] = _pick(rng, k, choices, kmin, kmax, ordered=True)
    return ctx["cart"]


def _listed(rows: np.ndarray, picks: np.ndarray, remap: np.ndarray, values: list[Any]) -> Field:
    return Field("list", remap[picks], values, None, rows.astype(np.int32))


def _absent(field: Field, missing: np.ndarray) -> Field:
    """``field`` with the entities in ``missing`` left without a value."""
    if not missing.any():
        return field
    if field.kind == "code":
        return Field("code", np.where(missing, -1, field.data).astype(np.int32), field.values)
    if field.kind == "list":
        assert field.rows is not None
        keep = ~missing[field.rows]
        return Field("list", field.data[keep], field.values, ~missing, field.rows[keep])
    return Field(field.kind, field.data, field.values, ~missing)


def _numbers(field: Field) -> np.ndarray:
    """A numeric field's values per entity (0 where absent or not a number)."""
    if field.kind in ("int", "float"):
        data = np.asarray(field.data, dtype=np.float64)
    elif field.kind == "code":
        table = np.array([float(v) if isinstance(v, int | float) else 0.0 for v in field.values] + [0.0])
        data = table[np.asarray(field.data)]  # code -1 reads the trailing 0
    else:
        return np.zeros(len(field.data))
    return data if field.present is None else np.where(field.present, data, 0.0)


class _Builder:
    """Draws every column of the population from one ``numpy`` generator seeded with the seed."""

    def __init__(self, profile: Mapping[str, Any], seed: int, reference_date: str | int) -> None:
        self.rng = np.random.default_rng(seed)
        self.ref_ts = parse_timestamp(reference_date)
        pool_size = int(profile.get("pool_size", 400))
        locales = profile["locales"]
        self.locale_pick = _Weighted({k: float(v.get("weight", 1.0)) for k, v in locales.items()})
        self.pools = [_LocalePool(name, locales[name], seed * 1009 + i, pool_size)
                      for i, name in enumerate(locales)]
        self.pool_size = pool_size
        self.domains = _Weighted(profile.get("email_domains") or {"example.com": 1.0})
        self.gender = _Weighted(profile.get("gender") or {"M": 0.5, "F": 0.5})
        self.age = profile.get("age") or {"min": 18, "max": 80, "mean": 36, "sd": 12}
        signup = profile.get("signup_days") or {"min": 1, "max": 1460}
        self.signup_min, self.signup_max = int(signup["min"]), int(signup["max"])
        self.tiers = profile["customer_types"]
        self.tier_pick = _Weighted({k: float(v.get("weight", 1.0)) for k, v in self.tiers.items()})
        self.dormant = float(profile.get("dormant_share", 0.2))
        devices = profile["devices"]
        self.device_count = _Weighted({int(k): float(v) for k, v in devices["count"].items()})
        self.device_platform = _Weighted(devices["platforms"])
        unknown = [p for p in self.device_platform.values if p not in PLATFORMS]
        if unknown:
            raise ValueError(f"population profile: $.devices.platforms: unknown platform {unknown[0]!r} "
                             f"(one of {', '.join(PLATFORMS)})")
        self.active_days = int(devices.get("last_active_days", 120))
        self.history = int(profile.get("history_days", 365)) * _DAY
        self.reach = {ch: (_Weighted(spec.get("states") or {"subscribed": 1.0}), float(spec.get("invalid", 0)),
                           float(spec.get("dnd", 0))) for ch, spec in profile["reachability"].items()}
        for channel, (states, _, _) in self.reach.items():
            for state in states.values:
                if state not in STATES:
                    raise ValueError(f"population profile: $.reachability.{channel}: unknown state {state!r} "
                                     f"(one of {', '.join(STATES)})")
        products = [dict(p) for p in profile["products"]]
        self.custom = [(str(c["name"]), float(c.get("missing", 0)), _compile_value(c, products, self.ref_ts))
                       for c in profile["custom_properties"]]
        self.events = [(str(e["name"]), float(e.get("mean", 1.0)),
                        [(str(k), _compile_value(v, products, self.ref_ts))
                         for k, v in (e.get("properties") or {}).items()]) for e in profile["events"]]
        names = [name for name, _, _ in self.events]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"population profile: $.events[{i}] repeats the event name {name!r}")

    def build(self, n: int, on_progress: ProgressCallback | None) -> Frame:
        rng = self.rng

        def progress(share: float) -> None:
            if on_progress is not None:
                on_progress(int(n * share), n)

        with paused_gc():
            fields, facts = self._people(n)
            progress(0.2)
            devices = self._devices(n, facts["dormant"], facts["signup"])
            progress(0.3)
            events, charged = self._events(n, facts["activity"], facts["signup"], progress)
            tiers = facts["tier"]
            low = np.array([float(t.get("ltv_base", [0, 100])[0]) for t in self.tiers.values()])
            high = np.array([float(t.get("ltv_base", [0, 100])[1]) for t in self.tiers.values()])
            fields["lifetime_value"] = Field("float", np.round(rng.uniform(low[tiers], high[tiers]) + charged, 2))
            last = facts["signup"].copy()
            np.maximum.at(last, devices.rows, devices.last_active)
            np.maximum.at(last, events.rows, events.ts)
            fields["last_active"] = Field("int", last)
            properties = {name: _absent(gen(rng, n, {}), rng.random(n) < missing if missing else np.zeros(n, bool))
                          for name, missing, gen in self.custom}
            reach = Reach({}, {}, {})
            codes = {state: i for i, state in enumerate(STATES)}
            for channel, (states, invalid, dnd) in self.reach.items():
                table = np.array([codes[s] for s in states.values], dtype=np.int8)
                reach.state[channel] = table[states.codes(rng, n)]
                reach.invalid[channel] = rng.random(n) < invalid if invalid else np.zeros(n, dtype=bool)
                reach.dnd[channel] = rng.random(n) < dnd if dnd else np.zeros(n, dtype=bool)
            progress(0.9)
            frame = Frame(n, fields, properties, devices, reach, events)
            frame.sort_identities()
        progress(1.0)
        return frame

    def _people(self, n: int) -> tuple[dict[str, Field], dict[str, np.ndarray]]:
        rng, pools, size = self.rng, self.pools, self.pool_size
        locale = self.locale_pick.codes(rng, n)
        gender = self.gender.codes(rng, n)
        genders = np.array(self.gender.values, dtype=object)[gender]
        female = (genders == "F") | ((genders != "M") & (rng.random(n) < 0.5))
        # first names: per locale its female then its male pool; last names and cities one pool each
        first_values, first_map = _interned([v for p in pools for v in (*p.female, *p.male)])
        first = first_map[locale * 2 * size + np.where(female, 0, size) + rng.integers(0, size, n)]
        last_values, last_map = _interned([v for p in pools for v in p.last])
        last = last_map[locale * size + rng.integers(0, size, n)]
        city_values, city_map = _interned([v for p in pools for v in p.cities])
        city = city_map[locale * size + rng.integers(0, size, n)]
        pairs, name = np.unique(first.astype(np.int64) * len(last_values) + last, return_inverse=True)
        names = [f"{first_values[p // len(last_values)]} {last_values[p % len(last_values)]}"
                 for p in pairs.tolist()]
        plain_first = [_ascii(v) or "user" for v in first_values]
        plain_last = [_ascii(v) or "x" for v in last_values]
        domains = [str(d) for d in self.domains.values]
        domain = self.domains.codes(rng, n)
        emails = [f"{plain_first[f]}.{plain_last[la]}{row + 1}@{domains[d]}"
                  for row, (f, la, d) in enumerate(zip(first.tolist(), last.tolist(), domain.tolist(), strict=True))]
        identities = np.array([f"user{row + 1:07d}" for row in range(n)], dtype="S")
        # age and date of birth, counted from the reference date
        spec = self.age
        years = np.clip(rng.normal(spec["mean"], spec["sd"], n), spec["min"], spec["max"]).astype(np.int64)
        ref_day = np.datetime64(self.ref_ts // _DAY, "D")
        dob = ref_day - (years * 365 + years // 4 + rng.integers(0, 365, n)).astype("timedelta64[D]")
        month_start = dob.astype("datetime64[M]")
        month = month_start.astype(np.int64) % 12 + 1
        day = (dob - month_start.astype("datetime64[D]")).astype(np.int64) + 1
        ref_month = int(ref_day.astype("datetime64[M]").astype(np.int64) % 12 + 1)
        ref_dom = int((ref_day - ref_day.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1)
        ref_year = int(ref_day.astype("datetime64[Y]").astype(np.int64)) + 1970
        age = ref_year - (dob.astype("datetime64[Y]").astype(np.int64) + 1970) - (
            (ref_month < month) | ((ref_month == month) & (ref_dom < day)))
        dob_days, dob_codes = np.unique(dob, return_inverse=True)
        tier = self.tier_pick.codes(rng, n)
        signup = (self.ref_ts - rng.integers(self.signup_min, self.signup_max + 1, n) * _DAY
                  - rng.integers(0, _DAY, n))
        dormant = rng.random(n) < self.dormant
        activity = np.array([float(t.get("activity", 1.0)) for t in self.tiers.values()])[tier] * np.where(
            dormant, 0.05, rng.lognormal(0.0, 0.5, n))
        zone_values, zone_map = _interned([z for p in pools for z in p.time_zones.values])
        zone_offsets = np.cumsum([0] + [len(p.time_zones.values) for p in pools])
        zone = np.empty(n, dtype=np.int32)
        phone_width = max(len(p.phone.encode("ascii", "replace")) for p in pools) or 1
        phones = np.empty(n, dtype=f"S{phone_width}")
        for i, pool in enumerate(pools):
            members = np.flatnonzero(locale == i)
            zone[members] = zone_map[zone_offsets[i] + pool.time_zones.codes(rng, len(members))]
            phones[members] = _phones(pool.phone, rng, len(members))
        per_locale = {key: _interned([getattr(p, key) for p in pools]) for key in ("country", "language", "locale")}
        fields = {
            "identity": Field("text", identities),
            "objectId": Field("text", _hex(rng, n, 16, b"__")),
            "internal_id": Field("text", _hex(rng, n, 12)),
            "email": Field("text", np.array(emails, dtype="S")),
            "phone": Field("text", phones),
            "name": Field("code", name.astype(np.int32), names),
            "first_name": Field("code", first, first_values),
            "last_name": Field("code", last, last_values),
            "gender": Field("code", gender.astype(np.int32), list(self.gender.values)),
            "dob": Field("code", dob_codes.astype(np.int32), [str(d) for d in dob_days.tolist()]),
            "age": Field("int", age.astype(np.int64)),
            "city": Field("code", city, city_values),
            **{key: Field("code", remap[locale], values) for key, (values, remap) in per_locale.items()},
            "time_zone": Field("code", zone, zone_values),
            "customer_type": Field("code", tier.astype(np.int32), list(self.tiers)),
            "signup_date": Field("stamp", signup),
        }
        fields = {name: fields[name] for name in TOP_FIELDS if name in fields}
        return fields, {"signup": signup, "dormant": dormant, "activity": activity, "tier": tier}

    def _devices(self, n: int, dormant: np.ndarray, signup: np.ndarray) -> Devices:
        rng = self.rng
        counts = np.array(self.device_count.values, dtype=np.int64)[self.device_count.codes(rng, n)]
        rows = np.repeat(np.arange(n, dtype=np.int32), counts)
        codes = np.array([PLATFORMS.index(p) for p in self.device_platform.values], dtype=np.int8)
        platform = codes[self.device_platform.codes(rng, len(rows))]
        window = np.minimum(np.where(dormant, 365, self.active_days) * _DAY, self.ref_ts - signup)
        spread = np.maximum(window, 1)[rows]
        last_active = self.ref_ts - np.floor(rng.random(len(rows)) * spread).astype(np.int64)
        seeds = rng.integers(0, 2**63 - 1, len(rows), dtype=np.int64).astype(np.uint64)
        return Devices(rows, platform, last_active, seeds, starts(rows, n))

    def _events(self, n: int, activity: np.ndarray, signup: np.ndarray,
                progress: Callable[[float], None]) -> tuple[Events, np.ndarray]:
        rng, ref_ts = self.rng, self.ref_ts
        begin = np.maximum(signup, ref_ts - self.history)
        span = ref_ts - begin
        rows_parts, ts_parts, name_parts = [], [], []
        props: dict[str, dict[str, Field]] = {}
        charged = np.zeros(n)
        for code, (name, mean, generators) in enumerate(self.events):
            counts = np.floor(rng.exponential(1.0, n) * mean * activity + rng.random(n)).astype(np.int64)
            counts[span <= 0] = 0
            rows = np.repeat(np.arange(n, dtype=np.int32), counts)
            ts = begin[rows] + np.floor(rng.random(len(rows)) * span[rows]).astype(np.int64)
            ctx: dict[str, Any] = {}
            fields = {key: gen(rng, len(rows), ctx) for key, gen in generators}
            order = np.lexsort((ts, rows))
            rows, ts = rows[order], ts[order]
            props[name] = {key: field.permuted(order) for key, field in fields.items()}
            if name == "Charged" and "Amount" in props[name]:
                charged += np.bincount(rows, weights=_numbers(props[name]["Amount"]), minlength=n)
            rows_parts.append(rows)
            ts_parts.append(ts)
            name_parts.append(np.full(len(rows), code, dtype=np.int16))
            progress(0.3 + 0.5 * (code + 1) / len(self.events))
        rows = np.concatenate(rows_parts) if rows_parts else np.zeros(0, dtype=np.int32)
        ts = np.concatenate(ts_parts) if ts_parts else np.zeros(0, dtype=np.int64)
        names = np.concatenate(name_parts) if name_parts else np.zeros(0, dtype=np.int16)
        order = np.lexsort((ts, rows))  # stable: equal times keep the profile's event order
        rows, ts, names = rows[order], ts[order], names[order]
        rank = np.empty(len(rows), dtype=np.int32)
        for code in range(len(self.events)):
            where = np.flatnonzero(names == code)
            rank[where] = np.arange(len(where), dtype=np.int32)
        return Events(rows, ts, names, rank, starts(rows, n), [name for name, _, _ in self.events], props), charged


def build_frame(profile: Mapping[str, Any], *, seed: int | None = None, size: int | None = None,
                reference_date: str | int | None = None, on_progress: ProgressCallback | None = None) -> Frame:
    """Build ``size`` users from ``profile`` as columns (seed/size/reference date default to the profile's)."""
    seed = int(profile.get("seed", 42) if seed is None else seed)
    size = int(profile.get("size", 10000) if size is None else size)
    if size < 0:
        raise ValueError("population size must be >= 0")
    ref = profile.get("reference_date", DEFAULT_REFERENCE_DATE) if reference_date is None else reference_date
    return _Builder(profile, seed, ref).build(size, on_progress)


def generate(profile: Mapping[str, Any], *, seed: int | None = None, size: int | None = None,
             reference_date: str | int | None = None,
             on_progress: ProgressCallback | None = None) -> list[Profile]:
    """``build_frame``'s users as profile dicts (for tests and small tools; the server keeps the columns)."""
    return list(build_frame(profile, seed=seed, size=size, reference_date=reference_date,
                            on_progress=on_progress))
