"""examples/docker/: each recipe parses as YAML and agrees with the Dockerfile on image, port and health check."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:  # the parsed Dockerfile comes from the `dockerfile` fixture of tests/docker/conftest.py
    from support.http import Dockerfile

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "docker"
RECIPES = ("docker-compose.yml", "github-actions.yml", "gitlab-ci.yml")


def load(name: str) -> Any:
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"no {path} (running from an sdist?)")
    return yaml.safe_load(path.read_text())


def image_of(dockerfile: Dockerfile) -> str:
    """The published name the recipes use: ghcr.io/<owner>/<repo>:<version> from the image's OCI labels."""
    labels = dockerfile.final.labels
    source = labels["org.opencontainers.image.source"]
    found = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)(?:\.git)?/?", source)
    assert found, source
    return f"ghcr.io/{found.group(1).lower()}:{labels['org.opencontainers.image.version']}"


def health_path(dockerfile: Dockerfile) -> str:
    check = dockerfile.final.healthcheck
    assert check is not None
    found = re.search(r"/_sandbox/[a-z]+", check.command[-1])
    assert found
    return found.group(0)


def duration(raw: str) -> str:
    return raw.replace(" ", "")


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_is_yaml(name: str) -> None:
    assert isinstance(load(name), dict)


def test_compose_service_matches_the_dockerfile(dockerfile: Dockerfile) -> None:
    service = load("docker-compose.yml")["services"]["sandbox"]
    check = dockerfile.final.healthcheck
    assert check is not None
    assert service["image"] == image_of(dockerfile)
    assert [int(str(p).rsplit(":", 1)[1]) for p in service["ports"]] == dockerfile.final.expose
    assert service["volumes"][0].split(":")[1] == dockerfile.final.env["SANDBOX_DATA_DIR"]
    health = service["healthcheck"]
    assert health["test"] == ["CMD", *check.command]
    for key in ("interval", "timeout", "start_period"):
        assert duration(health[key]) == check.options[key.replace("_", "-")]
    assert str(health["retries"]) == check.options["retries"]
    assert load("docker-compose.yml")["services"]["tests"]["depends_on"]["sandbox"]["condition"] == "service_healthy"


def github_options() -> dict[str, str]:
    service = load("github-actions.yml")["jobs"]["test"]["services"]["sandbox"]
    words = shlex.split(service["options"])
    return dict(zip(words[::2], words[1::2], strict=True))


def test_github_actions_service_matches_the_dockerfile(dockerfile: Dockerfile) -> None:
    service = load("github-actions.yml")["jobs"]["test"]["services"]["sandbox"]
    check = dockerfile.final.healthcheck
    assert check is not None
    assert service["image"] == image_of(dockerfile)
    assert [int(str(p).split(":")[-1]) for p in service["ports"]] == dockerfile.final.expose
    options = github_options()
    # --health-cmd is a shell string (Docker's CMD-SHELL); split as sh would, it is the image's command.
    assert shlex.split(options.pop("--health-cmd")) == check.command
    assert options == {f"--health-{key}": value for key, value in check.options.items()}


def test_gitlab_service_matches_the_dockerfile(dockerfile: Dockerfile) -> None:
    job = load("gitlab-ci.yml")["test"]
    (service,) = job["services"]
    assert service["name"] == image_of(dockerfile)
    url = job["variables"]["SANDBOX_URL"]
    assert url == f"http://{service['alias']}:{dockerfile.final.expose[0]}"
    waits = [line for line in job["script"] if "$SANDBOX_URL" + health_path(dockerfile) in line]
    assert len(waits) == 2
