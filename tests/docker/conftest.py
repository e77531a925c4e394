"""The repository's Dockerfile, parsed once for the docker tests (static checks, recipes, the container)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass
class Healthcheck:
    options: dict[str, str]
    command: list[str]  # exec form: argv as Docker runs it

    def seconds(self, option: str, default: float) -> float:
        """``--interval=2s`` -> 2.0 (Docker durations in s / ms / m)."""
        raw = self.options.get(option)
        if raw is None:
            return default
        for unit, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
            if raw.endswith(unit):
                return float(raw[: -len(unit)]) * factor
        raise ValueError(f"unknown duration {raw!r}")


@dataclass
class Stage:
    """One ``FROM`` stage: its base, its name and the instructions that matter to us."""

    base: str
    name: str | None
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    expose: list[int] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    user: str | None = None
    healthcheck: Healthcheck | None = None
    runs: list[str] = field(default_factory=list)

    @property
    def command(self) -> list[str]:
        """The argv the container runs: ENTRYPOINT followed by CMD."""
        return [*self.entrypoint, *self.cmd]

    def expand(self, text: str) -> str:
        for name, value in self.args.items():
            text = text.replace("${" + name + "}", value).replace("$" + name, value)
        return text


@dataclass
class Dockerfile:
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, backslash continuations joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, rest = full.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arguments
    return value


def pairs(arguments: str) -> dict[str, str]:
    """``KEY=value KEY2="value 2"`` (ENV / LABEL / ARG syntax)."""
    result: dict[str, str] = {}
    for token in shlex.split(arguments):
        key, _, value = token.partition("=")
        result[key] = value
    return result


def parse(text: str) -> Dockerfile:
    stages: list[Stage] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            stages.append(Stage(base=words[0], name=words[2] if len(words) > 2 else None))
            continue
        stage = stages[-1]
        if keyword == "ENV":
            stage.env.update(pairs(rest))
        elif keyword == "ARG":
            stage.args.update(pairs(rest))
        elif keyword == "LABEL":
            stage.labels.update({k: stage.expand(v) for k, v in pairs(rest).items()})
        elif keyword == "ENTRYPOINT":
            stage.entrypoint = exec_form(rest)
        elif keyword == "CMD":
            stage.cmd = exec_form(rest)
        elif keyword == "EXPOSE":
            stage.expose += [int(p.split("/")[0]) for p in rest.split()]
        elif keyword == "VOLUME":
            stage.volumes += exec_form(rest) if rest.startswith("[") else rest.split()
        elif keyword == "USER":
            stage.user = rest
        elif keyword == "RUN":
            stage.runs.append(rest)
        elif keyword == "HEALTHCHECK":
            found = re.fullmatch(r"((?:--\S+\s+)*)CMD\s+(\[.*\])", rest)
            assert found, f"HEALTHCHECK must use CMD in exec form: {rest}"
            options = dict(option[2:].partition("=")[::2] for option in found.group(1).split())
            stage.healthcheck = Healthcheck(options, exec_form(found.group(2)))
    return Dockerfile(stages)


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    if not DOCKERFILE.is_file():
        pytest.skip(f"no Dockerfile at {DOCKERFILE} (running from an sdist?)")
    return parse(DOCKERFILE.read_text())
