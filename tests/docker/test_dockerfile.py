"""The Dockerfile without an engine: hadolint clean, the shape the issue asks for, and the exact command its
ENTRYPOINT runs serving locally and passing the exact command its HEALTHCHECK runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the parsed Dockerfile comes from the `dockerfile` fixture of tests/docker/conftest.py
    from support.http import Dockerfile

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
BIN = Path(sys.executable).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text()) if (ROOT / "pyproject.toml").is_file() else {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(BIN))
    assert found, f"{name} is not installed (it is in the test extra: pip install '.[test]')"
    return found


def test_hadolint_is_clean(dockerfile: Dockerfile) -> None:
    result = subprocess.run([tool("hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                            timeout=60)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_builder_stage_builds_wheels_and_final_stage_installs_only_them(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) == 2
    builder, final = dockerfile.stages
    assert builder.base == final.base == "python:3.11-slim"
    assert builder.name == "builder"
    assert any(re.search(r"\bpip wheel\b.*--no-cache-dir.*--wheel-dir /wheels", run) for run in builder.runs)
    installs = [run for run in final.runs if "pip install" in run]
    assert len(installs) == 1
    assert "--mount=type=bind,from=builder,source=/wheels,target=/wheels" in installs[0]
    assert all(flag in installs[0] for flag in ("--no-cache-dir", "--no-index", "/wheels/*.whl"))


def test_final_stage_is_non_root_with_data_volume_port_and_entrypoint(dockerfile: Dockerfile) -> None:
    final = dockerfile.final
    assert final.user is not None and final.user.split(":")[0] not in ("0", "root")
    assert final.volumes == ["/data"]
    assert final.env["SANDBOX_DATA_DIR"] == "/data"
    assert final.expose == [8080]
    assert final.command == ["campaign-sandbox", "serve", "--host", "0.0.0.0"]


def test_oci_labels_match_the_package(dockerfile: Dockerfile) -> None:
    labels = dockerfile.final.labels
    assert labels["org.opencontainers.image.version"] == PYPROJECT["project"]["version"]
    assert labels["org.opencontainers.image.licenses"] == PYPROJECT["project"]["license"] == "Apache-2.0"
    assert labels["org.opencontainers.image.source"].startswith("https://")


def test_healthcheck_interval_lets_the_container_be_healthy_within_10s(dockerfile: Dockerfile) -> None:
    check = dockerfile.final.healthcheck
    assert check is not None
    # Docker runs the first check one interval after start: a 2 s interval leaves 8 s for startup.
    assert check.seconds("interval", 30) <= 2
    assert check.seconds("timeout", 30) <= check.seconds("interval", 30) + 1
    assert check.command[0] == "python" and "curl" not in " ".join(check.command)
    assert "/_sandbox/health" in check.command[-1]


def run_check(command: list[str], env: dict[str, str]) -> int:
    return subprocess.run(command, env=env, capture_output=True, timeout=15).returncode


@pytest.fixture
def local_env(dockerfile: Dockerfile, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The image's ENV with /data mapped to a temporary directory and our venv first on PATH."""
    env = {**os.environ, **dockerfile.final.env, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    data = tmp_path / "data"
    data.mkdir()
    env["SANDBOX_DATA_DIR"] = str(data)
    yield env


def test_entrypoint_command_serves_and_passes_the_healthcheck_command(dockerfile: Dockerfile,
                                                                      local_env: dict[str, str]) -> None:
    port = free_port()
    check = dockerfile.final.healthcheck
    assert check is not None
    check_env = {**local_env, "SANDBOX_PORT": str(port)}
    assert run_check(check.command, check_env) != 0, "the health check passes with no server listening"

    proc = subprocess.Popen([*dockerfile.final.command, "--port", str(port)], env=local_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = time.monotonic()
        healthy = False
        while time.monotonic() - started < 60 and proc.poll() is None:
            if run_check(check.command, check_env) == 0:
                healthy = True
                break
            time.sleep(0.2)
        assert healthy, f"not healthy within 60 s: {proc.poll()=}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/health", timeout=5) as resp:
            settings = json.loads(resp.read())["settings"]
        # The image's ENV reaches the server's settings (with /data mapped to a local directory here).
        assert (settings["host"], settings["port"], settings["data_dir"]) == ("0.0.0.0", port,
                                                                            local_env["SANDBOX_DATA_DIR"])
        proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert proc.wait(timeout=5) == 0
        assert time.monotonic() - stopped < 2
        out, _ = proc.communicate()
        assert f"serving on http://0.0.0.0:{port}" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


# --- .dockerignore ------------------------------------------------------------------------------------------

def ignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's matching: Go filepath.Match on the whole relative path, plus ``**`` for any directories."""
    pattern = pattern.strip("/")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker excludes a file when the last pattern matching it or one of its parent directories is not a
    ``!`` exception."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = pattern_regex(pattern.lstrip("!"))
        if any(regex.match(candidate) for candidate in candidates):
            result = not negate
    return result


def build_inputs() -> list[str]:
    """What the wheel is built from: pyproject.toml, README.md and every file of sandbox/, schemas/, fixtures/."""
    found = ["pyproject.toml", "README.md"]
    for folder in ("sandbox", "schemas", "fixtures"):
        found += [p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts]
    return found


@pytest.mark.parametrize("path", [
    ".git/HEAD", ".venv/bin/python", "venv/bin/python", "sandbox/__pycache__/app.cpython-311.pyc",
    "tests/conftest.py", "tests/docker/test_container.py", ".hypothesis/examples/x", ".pytest_cache/v/x",
    ".ruff_cache/x", "dist/campaign_sandbox-0.1.0-py3-none-any.whl", "build/lib/sandbox/app.py",
    "campaign_sandbox.egg-info/PKG-INFO", ".env", ".ci/run", "docs/docker.md",
    "examples/docker/docker-compose.yml", "benchmarks/throughput.py", "session.har",
])
def test_dockerignore_keeps_out(path: str) -> None:
    assert ignored(path, ignore_patterns())


def test_dockerignore_keeps_everything_the_wheel_is_built_from() -> None:
    patterns = ignore_patterns()
    inputs = build_inputs()
    assert any(path.startswith("schemas/") for path in inputs)
    assert [path for path in inputs if ignored(path, patterns)] == []


def test_dockerignore_matcher_follows_docker_semantics() -> None:
    # "tests" is anchored at the context root (unlike .gitignore), "**/" reaches any depth, "!" re-includes.
    assert ignored("tests/x.py", ["tests"]) and not ignored("sandbox/tests/x.py", ["tests"])
    assert ignored("__pycache__/a.pyc", ["**/__pycache__"]) and ignored("a/b/__pycache__/c", ["**/__pycache__"])
    assert not ignored("docs/keep.md", ["docs", "!docs/keep.md"])
