"""``iso``: the text every record and answer shows for a time, the same as datetime's for any timestamp."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from sandbox.core.clock import iso


def reference(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@given(st.one_of(st.floats(min_value=-6.2e10, max_value=3.2e10, allow_nan=False),
                 st.integers(min_value=-6_200_000_000, max_value=32_000_000_000),
                 st.integers(min_value=0, max_value=4_000_000_000).map(lambda s: s + 0.9999995),
                 st.integers(min_value=0, max_value=4_000_000_000).map(lambda s: s - 0.0000005)))
def test_iso_matches_datetime_for_any_timestamp(ts: float) -> None:
    assert iso(ts) == reference(ts)


def test_iso_of_consecutive_times_within_and_across_a_second() -> None:
    base = 1_764_489_599.0  # 2025-11-30T07:59:59Z
    for ts in (base + 0.123, base + 0.9995, base + 0.9999996, base + 1.0, base + 1.001, base + 0.5):
        assert iso(ts) == reference(ts)
    assert iso(base + 1.001) == "2025-11-30T08:00:00.001Z"
