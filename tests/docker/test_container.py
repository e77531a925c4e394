"""The image as users run it: ``docker run -d -p 127.0.0.1::8080 <image>``, checked end to end.

Needs a Docker engine (skipped cleanly when ``docker info`` fails). The image is built from the repository's
Dockerfile, or taken from ``SANDBOX_DOCKER_IMAGE`` when set (``.ci/docker.sh`` builds it once and passes it).
``DOCKER_CI_NETWORK=host`` (set by docker-ci.sh on machines without a bridge) runs containers on the host
network with ``SANDBOX_PORT`` set to a free port instead of publishing 8080.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.providers import PROVIDER_CLASSES

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
NETWORK = os.environ.get("DOCKER_CI_NETWORK", "")
BUILT_TAG = "campaign-sandbox:pytest"
MAX_ADDED_BYTES = 115 * 10**6  # what the image may add to its base (docker's MB; .ci/docker.sh's budget)
PUSH = {"to": {"Identity": ["user-1"]}, "tag_group": "docker",
        "content": {"title": "Hello", "body": "From the container"}}


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # BuildKit for `docker build` (the Dockerfile uses RUN --mount); Docker 23+ uses it anyway.
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {shlex.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def engine() -> None:
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI")
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.skip("`docker info` timed out")
    if info.returncode != 0:
        pytest.skip(f"no Docker engine (`docker info` failed): {info.stderr.strip()[:200]}")


@pytest.fixture(scope="session")
def image(engine: None) -> str:
    given = os.environ.get("SANDBOX_DOCKER_IMAGE")
    if given:
        docker("image", "inspect", given)
        return given
    if not (ROOT / "Dockerfile").is_file():
        pytest.skip(f"no Dockerfile at {ROOT} and no SANDBOX_DOCKER_IMAGE")
    network = [f"--network={NETWORK}"] if NETWORK else []
    docker("build", *network, "-t", BUILT_TAG, str(ROOT), timeout=900)
    return BUILT_TAG


class Container:
    """One running container and the host port its 8080 is published on."""

    def __init__(self, cid: str, port: int, started: float) -> None:
        self.cid = cid
        self.port = port
        self.started = started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inspect(self, template: str) -> str:
        return docker("inspect", "-f", template, self.cid).stdout.strip()

    def wait_healthy(self, limit: float = 10) -> float:
        """Seconds from ``docker run`` until Docker itself reports ``healthy`` (its HEALTHCHECK passed)."""
        status = ""
        while time.monotonic() - self.started < limit + 5:
            status = self.inspect("{{.State.Health.Status}}")
            if status == "healthy":
                return time.monotonic() - self.started
            if self.inspect("{{.State.Running}}") != "true":
                break
            time.sleep(0.1)
        raise AssertionError(f"container not healthy ({status!r}): {self.logs()}")

    def call(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        return status, json.loads(raw) if raw else None

    def exec(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return docker("exec", self.cid, *argv, check=False)

    def stop(self) -> tuple[float, int]:
        """(seconds ``docker stop`` took, exit code)."""
        started = time.monotonic()
        docker("stop", "-t", "10", self.cid)
        return time.monotonic() - started, int(self.inspect("{{.State.ExitCode}}"))

    def logs(self) -> str:
        result = docker("logs", self.cid, check=False)
        return result.stdout + result.stderr

    def data_files(self) -> dict[str, tuple[int, int, str]]:
        """Every file under /data: path -> (size, mtime_ns, sha256)."""
        script = ("import hashlib,json,os,pathlib; print(json.dumps({str(p): (p.stat().st_size, p.stat().st_mtime_ns,"
                  " hashlib.sha256(p.read_bytes()).hexdigest()) for p in pathlib.Path('/data').rglob('*')"
                  " if p.is_file()}))")
        result = self.exec("python", "-c", script)
        assert result.returncode == 0, result.stderr
        return {k: tuple(v) for k, v in json.loads(result.stdout).items()}


Run = Callable[..., Container]


@pytest.fixture
def run(image: str) -> Iterator[Run]:
    """``run(*docker_run_options, files={container_path: text})`` starts the image like a user does."""
    started: list[str] = []

    def start(*options: str, files: dict[str, str] | None = None, port: int = 8080) -> Container:
        if NETWORK:  # no port publishing on the host network: the server must listen on a free port itself
            port = free_port() if port == 8080 else port
            publish = [f"--network={NETWORK}", "-e", f"SANDBOX_PORT={port}"]
        else:
            publish = ["-p", f"127.0.0.1::{port}"]
        cid = docker("create", *publish, *options, image).stdout.strip()
        started.append(cid)
        for target, text in (files or {}).items():  # docker cp works with remote engines too (no bind mounts)
            with tempfile.TemporaryDirectory() as folder:
                source = Path(folder) / "file"
                source.write_text(text)
                source.chmod(0o644)
                docker("cp", str(source), f"{cid}:{target}")
        begin = time.monotonic()
        docker("start", cid)
        if not NETWORK:
            port = int(docker("port", cid, f"{port}/tcp").stdout.splitlines()[0].rsplit(":", 1)[1])
        return Container(cid, port, begin)

    yield start
    for cid in started:
        docker("rm", "-f", "-v", cid, check=False)


@pytest.fixture
def volume(engine: None) -> Iterator[str]:
    name = f"campaign-sandbox-pytest-{uuid.uuid4().hex[:12]}"
    docker("volume", "create", name)
    yield name
    docker("volume", "rm", "-f", name, check=False)


def clevertap_headers(account: str = "ACCOUNT_ID", passcode: str = "PASSCODE") -> dict[str, str]:
    return {"X-CleverTap-Account-Id": account, "X-CleverTap-Passcode": passcode,
            "Content-Type": "application/json"}


def test_healthy_within_10s_and_reports_every_vendor(run: Run) -> None:
    container = run()
    assert container.wait_healthy() <= 10
    status, health = container.call("GET", "/_sandbox/health")
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert status == 200
    assert (health["status"], health["version"]) == ("ok", version)
    assert health["vendors"] == [cls.name for cls in PROVIDER_CLASSES]


def concrete(path: str) -> str:
    """A route template with each ``{param}`` filled in."""
    return "/".join("x1" if part.startswith("{") else part for part in path.split("/"))


def test_every_operation_is_served_at_its_real_path_and_under_its_vendor(run: Run) -> None:
    container = run()
    container.wait_healthy()
    status, table = container.call("GET", "/_sandbox/routes")
    assert status == 200 and table["total"] > 0
    assert {route["vendor"] for route in table["routes"]} == {cls.name for cls in PROVIDER_CLASSES}
    expected = []
    for route in table["routes"]:
        for path in (concrete(route["path"]), f"/{route['vendor']}{concrete(route['path'])}"):
            status, _ = container.call(route["method"], path, body={})  # no credentials: the vendor's 401
            assert status not in (404, 405), (route, path, status)
            expected.append((route["method"], path, route["vendor"], route["operation"]))
    status, journal = container.call("GET", f"/_sandbox/requests?limit={len(expected) + 10}")
    seen = [(e["method"], e["path"], e["vendor"], e["operation"]) for e in journal["requests"]
            if not e["path"].startswith("/_sandbox")]
    assert seen == expected


def test_runs_as_a_non_root_user(run: Run) -> None:
    container = run()
    container.wait_healthy()
    status = container.exec("cat", "/proc/1/status").stdout
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert "0" not in uids and len(uids) == 4
    assert container.inspect("{{.Config.User}}").split(":")[0] not in ("", "0", "root")


def test_writes_nothing_outside_the_data_volume(run: Run) -> None:
    container = run()
    container.wait_healthy()
    assert container.call("POST", "/1/send/push.json", PUSH, clevertap_headers())[0] == 200
    assert container.call("POST", "/_sandbox/reset")[0] == 200
    assert container.stop()[1] == 0
    assert docker("diff", container.cid).stdout.split("\n") == [""]


def test_serves_with_a_read_only_root_filesystem(run: Run) -> None:
    container = run("--read-only")
    assert container.wait_healthy() <= 10
    status, body = container.call("POST", "/1/send/push.json", PUSH, clevertap_headers())
    assert (status, body) == (200, {"status": "success", "message": "Added to queue for processing"})


def test_population_is_kept_across_a_restart_with_the_volume(run: Run, volume: str) -> None:
    first = run("-v", f"{volume}:/data")
    first.wait_healthy()
    assert first.call("GET", "/_sandbox/health")[1]["population"]["built"] is True  # a fresh volume: built
    built = first.data_files()
    assert built, "nothing was written to /data"
    assert first.stop()[1] == 0
    second = run("-v", f"{volume}:/data")
    assert second.wait_healthy() <= 10
    population = second.call("GET", "/_sandbox/health")[1]["population"]
    assert population["built"] is False  # loaded from the volume
    # The population files: same files, same bytes, same mtimes: reused as they are, not rebuilt or rewritten.
    # (The server lock and the tenant-state snapshot are rewritten by every run, by design.)
    assert population_files(second.data_files()) == population_files(built) != {}


def population_files(files: dict[str, Any]) -> dict[str, Any]:
    """The saved population's files (its columns, in ``/data/population-<fingerprint>/``)."""
    return {path: facts for path, facts in files.items()
            if any(part.startswith("population-") for part in Path(path).parts)}


def test_time_zones_resolve_without_the_base_images_tz_database(image: str) -> None:
    """Population users live in named zones; slim bases (Debian trixie) ship no /usr/share/zoneinfo."""
    profile = json.loads((ROOT / "fixtures" / "population" / "default.json").read_text())
    zones = sorted({zone for locale in profile["locales"].values() for zone in locale["time_zones"]})
    script = "import sys, zoneinfo; [zoneinfo.ZoneInfo(z) for z in sys.argv[1:]]"
    result = docker("run", "--rm", "-e", "PYTHONTZPATH=/nonexistent", "--entrypoint", "python", image,
                    "-c", script, *zones, check=False)
    assert (result.returncode, result.stderr) == (0, "")


def test_stops_with_exit_code_0_within_2s(run: Run) -> None:
    container = run()
    container.wait_healthy()
    seconds, code = container.stop()
    assert code == 0
    assert seconds <= 2
    assert "campaign-sandbox stopped" in container.logs()


def test_configured_by_sandbox_environment_variables(run: Run) -> None:
    accounts = {"clevertap": {"ACC-ENV": "PASS-ENV"}}
    container = run("-e", "SANDBOX_ACCOUNTS=/tmp/accounts.json", "-e", "SANDBOX_LOG_FORMAT=json",
                    "-e", "SANDBOX_LOG_LEVEL=debug", "-e", "SANDBOX_SEED=7", "-e", "SANDBOX_POPULATION_SIZE=50",
                    files={"/tmp/accounts.json": json.dumps(accounts)})
    container.wait_healthy()
    ok = container.call("POST", "/1/send/push.json", PUSH, clevertap_headers("ACC-ENV", "PASS-ENV"))
    assert ok == (200, {"status": "success", "message": "Added to queue for processing"})
    refused = container.call("POST", "/1/send/push.json", PUSH, clevertap_headers())
    assert refused == (401, {"status": "fail", "error": "Account ID is not valid", "code": 401})
    logged = [json.loads(line) for line in container.logs().splitlines() if line.startswith("{")]
    assert logged and all({"time", "level", "logger", "message"} <= entry.keys() for entry in logged)
    _, health = container.call("GET", "/_sandbox/health")
    assert (health["population"]["seed"], health["population"]["size"]) == (7, 50)
    assert {k: health["settings"][k] for k in ("seed", "population_size", "log_format", "accounts", "data_dir")} \
        == {"seed": 7, "population_size": 50, "log_format": "json", "accounts": "/tmp/accounts.json",
            "data_dir": "/data"}


def test_sandbox_port_moves_the_server_and_its_healthcheck(run: Run) -> None:
    container = run("-e", "SANDBOX_PORT=9090", port=9090)
    assert container.wait_healthy() <= 10
    assert container.call("GET", "/_sandbox/health")[0] == 200


def test_recipe_health_checks_pass_in_the_container(run: Run) -> None:
    examples = ROOT / "examples" / "docker"
    if not examples.is_dir():
        pytest.skip("no examples/docker")
    container = run()
    container.wait_healthy()
    compose = yaml.safe_load((examples / "docker-compose.yml").read_text())
    test = compose["services"]["sandbox"]["healthcheck"]["test"]
    assert test[0] == "CMD" and container.exec(*test[1:]).returncode == 0
    github = yaml.safe_load((examples / "github-actions.yml").read_text())
    words = shlex.split(github["jobs"]["test"]["services"]["sandbox"]["options"])
    health_cmd = words[words.index("--health-cmd") + 1]
    assert container.exec("/bin/sh", "-c", health_cmd).returncode == 0  # Docker runs it as CMD-SHELL


def test_image_is_lean_labelled_and_free_of_build_tools(image: str) -> None:
    config = json.loads(docker("image", "inspect", image).stdout)[0]
    labels = config["Config"]["Labels"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    assert labels["org.opencontainers.image.source"].startswith("https://")
    # Compilers, wheels or pip caches left behind (BuildKit leaves the empty /wheels mount point; that is all).
    probe = ("for t in gcc cc c++ g++ make; do command -v $t; done; "
             "find /wheels /src /root/.cache /tmp /data -mindepth 1 2>/dev/null; "
             "find /usr/local/lib -path '*-packages/*.whl' 2>/dev/null; true")
    leftovers = docker("run", "--rm", "--entrypoint", "/bin/sh", image, "-c", probe).stdout.split()
    assert leftovers == []
    base = docker("image", "inspect", "-f", "{{.Size}}", "python:3.11-slim", check=False)
    if base.returncode != 0:
        pytest.skip("base image python:3.11-slim is not present locally: cannot measure what the image adds")
    added = config["Size"] - int(base.stdout)
    print(f"\nimage {image} adds {added / 1e6:.1f} MB to python:3.11-slim")
    assert added <= MAX_ADDED_BYTES

