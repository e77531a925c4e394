"""The docs stay true: README.md and docs/*.md name only flags, variables, plugin options, fixtures and paths
that exist; every vendor operation is documented in its vendor's page; every relative link resolves."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from sandbox.cli import EVENT_LOOP_ENV, main
from sandbox.core.fastpath import FAST_PATH_ENV
from sandbox.providers import PROVIDER_CLASSES
from sandbox.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
REPO_DIRS = ("sandbox/", "tests/", "fixtures/", "schemas/", "examples/", "benchmarks/", "docs/", ".ci/")
# Flags of other programs that the docs quote (pytest, pip, docker).
FOREIGN_FLAGS = {"--read-only", "--user", "--health-cmd", "--health-interval", "--health-timeout",
                 "--health-retries", "--health-start-period", "--sandbox-url"}


def text_of(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return capsys.readouterr().out


def documented_cli_flags() -> set[str]:
    """Flags of the settings tables (`| `--flag` |`) and of `campaign-sandbox ...` command lines."""
    found: set[str] = set()
    for page in PAGES:
        for line in text_of(page).splitlines():
            cell = re.match(r"\|\s*`(--[a-z][a-z-]*)", line)
            if cell and not cell.group(1).startswith("--sandbox-"):
                found.add(cell.group(1))
            for command in re.findall(r"campaign-sandbox(?: serve| population \w+| routes)?((?: [^`|#]*)?)", line):
                found |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", command)) - FOREIGN_FLAGS
    return found


def test_documented_serve_flags_exist_and_every_serve_flag_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    serve_flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_of(capsys, "serve")))
    top_flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_of(capsys)))
    documented = documented_cli_flags()
    assert {"--port", "--seed", "--data-dir", "--fixtures"} <= documented
    assert documented <= serve_flags | top_flags, documented - serve_flags - top_flags
    everything = "\n".join(text_of(page) for page in PAGES)
    undocumented = {flag for flag in serve_flags - {"--help"} if f"`{flag}" not in everything}
    assert not undocumented, f"serve flags missing from README.md and docs/: {sorted(undocumented)}"


def test_documented_environment_variables_exist(capsys: pytest.CaptureFixture[str]) -> None:
    # not server settings: SANDBOX_URL (plugin); the browser tests' SANDBOX_ARTIFACTS, _REQUIRE_BROWSER, _CHROMIUM;
    # the process switches for comparing request paths (SANDBOX_FAST_PATH, SANDBOX_EVENT_LOOP)
    known = set(re.findall(r"SANDBOX_[A-Z_]+", help_of(capsys, "serve"))) | {
        "SANDBOX_URL", "SANDBOX_ARTIFACTS", "SANDBOX_REQUIRE_BROWSER", "SANDBOX_CHROMIUM", FAST_PATH_ENV,
        EVENT_LOOP_ENV}
    for page in PAGES:
        for name in set(re.findall(r"\bSANDBOX_[A-Z][A-Z_]*[A-Z]\b", text_of(page))):
            assert name in known, f"{page.name}: {name} is not a setting"


def test_every_documented_plugin_option_and_ini_setting_exists(pytestconfig: pytest.Config) -> None:
    everything = "\n".join(text_of(page) for page in PAGES)
    options = set(re.findall(r"--sandbox-[a-z-]+", everything))
    assert {"--sandbox-url", "--sandbox-har", "--sandbox-seed"} <= options
    for name in options:
        assert pytestconfig.getoption(name.lstrip("-").replace("-", "_"), default="missing") != "missing", name
    fixtures = plugin_fixture_table()
    for ini in set(re.findall(r"`(sandbox_[a-z_]+)`", everything)) - set(fixtures):
        pytestconfig.getini(ini)  # raises ValueError for an unknown ini setting


def plugin_fixture_table() -> list[str]:
    page = text_of(ROOT / "docs" / "plugin-and-client.md")
    table = page[page.index("| fixture | scope |"):].split("\n\n", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", table, re.M)


def test_every_documented_fixture_exists(request: pytest.FixtureRequest) -> None:
    names = plugin_fixture_table()
    assert {"sandbox", "sandbox_server", "clevertap_credentials", "braze_credentials", "netcore_credentials"} <= set(
        names)
    manager = request._fixturemanager
    missing = [name for name in names if not manager.getfixturedefs(name, request.node)]
    assert not missing, f"documented fixtures that the plugin does not provide: {missing}"


@pytest.mark.parametrize("provider_class", PROVIDER_CLASSES, ids=lambda c: c.name)
def test_every_operation_is_documented_in_its_vendor_page(provider_class: type) -> None:
    page = ROOT / "docs" / f"{provider_class.name}.md"
    spans = set(CODE_SPAN.findall(text_of(page)))
    operations = {op.name for op in provider_class(Settings(), None).operations()}
    assert operations, provider_class.name
    missing = sorted(operations - spans)
    assert not missing, f"operations missing from docs/{page.name}: {missing}"
    for section in ("## Operations", "## Account data: learn and strict", "## Differences from the real API"):
        assert f"\n{section}\n" in text_of(page), f"{page.name} lacks the heading {section!r}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.*)$", FENCE.sub("", text_of(page)), re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(FENCE.sub("", text_of(page))):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        inside = resolved.exists() and ROOT in (resolved, *resolved.parents)
        if not inside or (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)):
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_repository_path_named_exists(page: Path) -> None:
    missing = []
    for span in CODE_SPAN.findall(text_of(page)):
        path = span.split()[0] if span.split() else ""
        if not path.startswith(REPO_DIRS) or re.search(r"[<>{}*$]|\.\.\.|DIR|\(", path):
            continue
        if not (ROOT / path.rstrip(".,:;")).exists():
            missing.append(path)
    assert not missing, f"{page.name} names paths that do not exist: {missing}"


def test_nothing_refers_outside_the_repository() -> None:
    outside = "../" + "shared"
    allowed = "DOCKER_CI=${DOCKER_CI:-" + outside  # .ci/docker.sh: the CI host's tool path, not a reference
    offenders = []
    for path in [README, ROOT / "Dockerfile", ROOT / "pyproject.toml", *ROOT.glob(".ci/*"),
                 *(p for d in ("sandbox", "tests", "docs", "examples", "benchmarks", "schemas", "fixtures")
                   for p in (ROOT / d).rglob("*") if p.is_file() and p.suffix in {".py", ".md", ".json", ".sh",
                                                                                  ".yml", ".yaml", ".js", ".toml"})]:
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if outside in line and allowed not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, offenders


def test_readme_is_a_front_page_whose_test_command_is_the_one_ci_runs() -> None:
    lines = text_of(README).splitlines()
    assert len(lines) <= 200
    commands = FENCE.findall(text_of(README))[0].splitlines()[1:3]
    serve, test = (command.split("#")[0].strip() for command in commands)
    assert serve == "pip install . && campaign-sandbox serve"
    assert test in text_of(ROOT / ".ci" / "run").splitlines()


def test_github_actions_recipe_is_a_valid_job() -> None:
    page = text_of(ROOT / "docs" / "docker-and-ci.md")
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", page, re.S) if "integration-tests:" in b]
    workflow = yaml.safe_load(block)
    steps = workflow["jobs"]["integration-tests"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any(r.startswith("pip install campaign-sandbox") for r in runs)
    assert any(r.startswith("pytest ") and "--sandbox-har=har" in r for r in runs)
    assert not any("docker" in r for r in runs)
