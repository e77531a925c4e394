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

Determinism: one ``random.Random(seed)`` drives every draw and Faker is only used to fill small name and
city pools (``pool_size`` per locale) from instances seeded from the same seed. Same profile + seed + size +
reference date (and Faker version) gives identical users. Nothing reads the wall clock.
"""

from __future__ import annotations

import bisect
import gc
import os
import random
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ProgressCallback = Callable[[int, int], None]
Profile = dict[str, Any]

DEFAULT_REFERENCE_DATE = "2026-01-01T00:00:00Z"
GENERATOR_VERSION = 2  # bump whenever generate() output changes for the same inputs
CHANNELS: tuple[str, ...] = ("push", "webpush", "email", "sms", "whatsapp")
PLATFORMS: tuple[str, ...] = ("android", "ios", "web")
_DAY = 86400
_PROGRESS_EVERY = 1000


BYTES_PER_USER = 9_000
"""Resident memory one generated user costs once served (profile dicts plus the index; measured with
``benchmarks/startup.py``: 8 to 8.5 KB at 100k users, loaded warm)."""
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


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Weighted:
    """Weighted draw with one ``rng.random()`` call (``{value: weight}`` or a plain list = uniform)."""

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
        self.cum = []
        acc = 0.0
        for w in weights:
            acc += w
            self.cum.append(acc)
        self.total = acc

    def draw(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.total)]


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


def _phone(pattern: str, rng: random.Random) -> str:
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randrange(10)))
        elif ch == "%":
            out.append(str(rng.randrange(2, 10)))
        else:
            out.append(ch)
    return "".join(out)


ValueGen = Callable[[random.Random, dict[str, Any]], Any]


def _compile_value(spec: Mapping[str, Any], products: list[dict[str, Any]], ref_ts: int) -> ValueGen:
    """Turn one property spec of the profile file into a generator ``(rng, ctx) -> value``."""
    if "choice" in spec:
        weighted = _Weighted(spec["choice"])
        return lambda rng, ctx: weighted.draw(rng)
    if "bool" in spec:
        p = float(spec["bool"])
        return lambda rng, ctx: rng.random() < p
    if "int" in spec:
        lo, hi = (int(v) for v in spec["int"])
        return lambda rng, ctx: rng.randint(lo, hi)
    if "float" in spec:
        flo, fhi = (float(v) for v in spec["float"])
        return lambda rng, ctx: round(rng.uniform(flo, fhi), 2)
    if "sample" in spec:
        values = list(spec["sample"])
        kmin, kmax = (int(v) for v in spec.get("k", [1, 1]))
        return lambda rng, ctx: rng.sample(values, rng.randint(kmin, min(kmax, len(values))))
    if "date_days" in spec:
        days = int(spec["date_days"])
        return lambda rng, ctx: iso(ref_ts - rng.randrange(days * _DAY))[:10]
    if "product" in spec:
        field = str(spec["product"])

        def product_field(rng: random.Random, ctx: dict[str, Any]) -> Any:
            if "product" not in ctx:
                ctx["product"] = products[rng.randrange(len(products))]
            return ctx["product"][field]

        return product_field
    if "cart" in spec:
        cmin, cmax = (int(v) for v in spec["cart"])
        return lambda rng, ctx: [p["name"] for p in _cart(rng, ctx, products, cmin, cmax)]
    if "cart_amount" in spec:
        return lambda rng, ctx: round(sum(p["price"] for p in _cart(rng, ctx, products, 1, 1)), 2)
    raise ValueError(f"population profile: unknown property spec {dict(spec)!r}")


def _cart(rng: random.Random, ctx: dict[str, Any], products: list[dict[str, Any]], kmin: int,
          kmax: int) -> list[dict[str, Any]]:
    if "cart" not in ctx:
        k = rng.randint(kmin, min(kmax, len(products)))
        ctx["cart"] = [products[i] for i in sorted(rng.sample(range(len(products)), k))]
    return ctx["cart"]


class _EventSpec:
    __slots__ = ("mean", "name", "props")

    def __init__(self, spec: Mapping[str, Any], products: list[dict[str, Any]], ref_ts: int) -> None:
        self.name = str(spec["name"])
        self.mean = float(spec.get("mean", 1.0))
        self.props = [(str(k), _compile_value(v, products, ref_ts)) for k, v in
                      (spec.get("properties") or {}).items()]


class _Generator:
    def __init__(self, profile: Mapping[str, Any], seed: int, reference_date: str | int) -> None:
        self.rng = random.Random(seed)
        self.ref_ts = parse_timestamp(reference_date)
        self.ref_date = datetime.fromtimestamp(self.ref_ts, UTC).date()
        pool_size = int(profile.get("pool_size", 400))
        locales = profile["locales"]
        self.locale_pick = _Weighted({k: float(v.get("weight", 1.0)) for k, v in locales.items()})
        self.pools = {name: _LocalePool(name, spec, seed * 1009 + i, pool_size)
                      for i, (name, spec) in enumerate(locales.items())}
        self.domains = _Weighted(profile.get("email_domains") or {"example.com": 1.0})
        self.gender = _Weighted(profile.get("gender") or {"M": 0.5, "F": 0.5})
        self.age = profile.get("age") or {"min": 18, "max": 80, "mean": 36, "sd": 12}
        signup = profile.get("signup_days") or {"min": 1, "max": 1460}
        self.signup_min, self.signup_max = int(signup["min"]), int(signup["max"])
        tiers = profile["customer_types"]
        self.tier_pick = _Weighted({k: float(v.get("weight", 1.0)) for k, v in tiers.items()})
        self.tiers = tiers
        self.dormant = float(profile.get("dormant_share", 0.2))
        devices = profile["devices"]
        self.device_count = _Weighted({int(k): float(v) for k, v in devices["count"].items()})
        self.device_platform = _Weighted(devices["platforms"])
        self.active_days = int(devices.get("last_active_days", 120))
        self.history = int(profile.get("history_days", 365)) * _DAY
        self.reach = {ch: (_Weighted(spec.get("states") or {"subscribed": 1.0}),
                           float(spec.get("invalid", 0)), float(spec.get("dnd", 0)))
                      for ch, spec in profile["reachability"].items()}
        products = [dict(p) for p in profile["products"]]
        self.custom = [(str(c["name"]), float(c.get("missing", 0)), _compile_value(c, products, self.ref_ts))
                       for c in profile["custom_properties"]]
        self.events = [_EventSpec(e, products, self.ref_ts) for e in profile["events"]]

    def user(self, row: int) -> Profile:
        rng = self.rng
        pool: _LocalePool = self.pools[self.locale_pick.draw(rng)]
        gender = self.gender.draw(rng)
        names = pool.female if gender == "F" else pool.male if gender == "M" else (
            pool.female if rng.random() < 0.5 else pool.male)
        first = names[rng.randrange(len(names))]
        last = pool.last[rng.randrange(len(pool.last))]
        identity = f"user{row + 1:07d}"
        email = f"{_ascii(first) or 'user'}.{_ascii(last) or 'x'}{row + 1}@{self.domains.draw(rng)}"
        spec, ref = self.age, self.ref_date
        age_years = int(min(spec["max"], max(spec["min"], rng.gauss(spec["mean"], spec["sd"]))))
        dob = ref - timedelta(days=age_years * 365 + age_years // 4 + rng.randrange(365))
        age = ref.year - dob.year - ((ref.month, ref.day) < (dob.month, dob.day))
        tier = self.tier_pick.draw(rng)
        tier_spec = self.tiers[tier]
        signup_ts = self.ref_ts - rng.randint(self.signup_min, self.signup_max) * _DAY - rng.randrange(_DAY)
        dormant = rng.random() < self.dormant
        activity = float(tier_spec.get("activity", 1.0)) * (0.05 if dormant else rng.lognormvariate(0, 0.5))
        devices = self._devices(rng, dormant, signup_ts)
        events = self._events(rng, activity, signup_ts)
        charged = sum(e["props"].get("Amount", 0) for e in events if e["name"] == "Charged")
        lo, hi = tier_spec.get("ltv_base", [0, 100])
        properties: dict[str, Any] = {}
        for name, missing, gen in self.custom:
            if missing and rng.random() < missing:
                continue
            properties[name] = gen(rng, {})
        reachability = {}
        for channel, (states, invalid, dnd) in self.reach.items():
            reachability[channel] = {"state": states.draw(rng),
                                     "invalid": bool(invalid and rng.random() < invalid),
                                     "dnd": bool(dnd and rng.random() < dnd)}
        last_active = max([d["last_active"] for d in devices] + [e["ts"] for e in events] + [signup_ts])
        return {
            "identity": identity,
            "external_id": identity,
            "objectId": f"__{rng.getrandbits(128):032x}",
            "internal_id": f"{rng.getrandbits(96):024x}",
            "email": email,
            "phone": _phone(pool.phone, rng),
            "name": f"{first} {last}",
            "first_name": first,
            "last_name": last,
            "gender": gender,
            "dob": dob.isoformat(),
            "age": age,
            "city": pool.cities[rng.randrange(len(pool.cities))],
            "country": pool.country,
            "language": pool.language,
            "locale": pool.locale,
            "time_zone": pool.time_zones.draw(rng),
            "customer_type": tier,
            "signup_date": iso(signup_ts),
            "lifetime_value": round(rng.uniform(float(lo), float(hi)) + charged, 2),
            "last_active": last_active,
            "properties": properties,
            "devices": devices,
            "reachability": reachability,
            "events": events,
        }

    def _devices(self, rng: random.Random, dormant: bool, signup_ts: int) -> list[dict[str, Any]]:
        window = min((365 if dormant else self.active_days) * _DAY, self.ref_ts - signup_ts)
        out = []
        for _ in range(self.device_count.draw(rng)):
            platform = self.device_platform.draw(rng)
            if platform == "android":
                token = f"{rng.getrandbits(64):016x}:APA91b{rng.getrandbits(360):090x}"
            elif platform == "ios":
                token = f"{rng.getrandbits(256):064x}"
            else:
                token = f"https://push.example.net/wp/{rng.getrandbits(192):048x}"
            last_active = self.ref_ts - rng.randrange(max(window, 1))
            out.append({"platform": platform, "token": token, "last_active": last_active})
        return out

    def _events(self, rng: random.Random, activity: float, signup_ts: int) -> list[dict[str, Any]]:
        start = max(signup_ts, self.ref_ts - self.history)
        span = self.ref_ts - start
        if span <= 0:
            return []
        events = []
        for spec in self.events:
            count = int(rng.expovariate(1.0) * spec.mean * activity + rng.random())
            for _ in range(count):
                ctx: dict[str, Any] = {}
                props = {name: gen(rng, ctx) for name, gen in spec.props}
                events.append({"name": spec.name, "ts": start + int(rng.random() * span), "props": props})
        events.sort(key=lambda e: e["ts"])
        return events


def generate(profile: Mapping[str, Any], *, seed: int | None = None, size: int | None = None,
             reference_date: str | int | None = None,
             on_progress: ProgressCallback | None = None) -> list[Profile]:
    """Build ``size`` users from ``profile`` (seed/size/reference date default to the profile's)."""
    seed = int(profile.get("seed", 42) if seed is None else seed)
    size = int(profile.get("size", 10000) if size is None else size)
    if size < 0:
        raise ValueError("population size must be >= 0")
    ref = profile.get("reference_date", DEFAULT_REFERENCE_DATE) if reference_date is None else reference_date
    gen = _Generator(profile, seed, ref)
    users = []
    with paused_gc():
        for row in range(size):
            users.append(gen.user(row))
            if on_progress is not None and (row + 1) % _PROGRESS_EVERY == 0:
                on_progress(row + 1, size)
    if on_progress is not None and size % _PROGRESS_EVERY:
        on_progress(size, size)
    return users
