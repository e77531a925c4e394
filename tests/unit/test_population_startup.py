"""Startup checks of the population: sizes the machine cannot hold are refused in one line, and a large
build reports its progress."""

from __future__ import annotations

import pytest

from sandbox.cli import PROGRESS_MIN, build_progress, main


@pytest.mark.parametrize("size", ["0", "100000000000"])
def test_serve_refuses_a_population_it_cannot_hold(size: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--population-size", size, "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("campaign-sandbox: error: ")
    assert ("at least 1" in err) if size == "0" else ("GiB of memory" in err and "this machine has" in err)


def test_a_large_build_prints_a_line_per_tenth(capsys: pytest.CaptureFixture[str]) -> None:
    progress = build_progress(PROGRESS_MIN * 2)
    assert progress is not None and build_progress(PROGRESS_MIN - 1) is None
    total = PROGRESS_MIN * 2
    for done in range(1000, total + 1, 1000):
        progress(done, total)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1].split("%")[0].strip() for line in lines] == [str(p) for p in range(10, 101, 10)]
    warm = build_progress(None)
    assert warm is not None
    warm(total, total)  # a warm load reports only its end: nothing to show
    assert capsys.readouterr().err == ""
