"""Frozen Settings from CLI flags and ``SANDBOX_*`` environment variables (flag > env > default)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "SANDBOX_"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = field(default="127.0.0.1", metadata={"help": "interface to listen on"})
    port: int = field(default=8080, metadata={"help": "TCP port (0 picks a free one)"})
    seed: int = field(default=42, metadata={"help": "seed of the fake population and of generated ids"})
    data_dir: Path | None = field(default=None, metadata={
        "help": "directory for the TinyDB file (population built once, loaded on later starts); "
                "unset: everything in memory"})
    state_dir: Path | None = field(default=None, metadata={
        "help": "directory for the tenant-state snapshots and the server lock (default: --data-dir); give each "
                "of several servers sharing one --data-dir its own"})
    log_level: str = field(default="info", metadata={
        "help": "debug, info, warning or error", "choices": ("debug", "info", "warning", "error")})
    log_format: str = field(default="text", metadata={
        "help": "text or json (every line one JSON object, startup and shutdown too)", "choices": ("text", "json")})
    quiet: bool = field(default=False, metadata={"help": "no access log line per request", "flag": True})
    accounts: Path | None = field(default=None, metadata={
        "help": "JSON file of valid credentials per vendor, e.g. {\"<vendor>\": {\"<account>\": \"<secret>\"}}"
                "; default: any non-empty credential is accepted"})
    fixtures: Path | None = field(default=None, metadata={
        "help": "directory overlaying the packaged fixtures/ (your campaigns, segments, templates...)"})
    population: Path | None = field(default=None, metadata={
        "help": "population profile JSON (default: the packaged fixtures/population/default.json)"})
    population_size: int | None = field(default=None, metadata={
        "help": "number of fake users (default: the profile's size)"})
    strict: bool = field(default=False, metadata={
        "help": "reject references to dashboard objects (channels, campaigns, templates, lists...) the sandbox "
                "has no record of, with the vendor's exact error; default: learn them on first use", "flag": True})
    max_body_size: int = field(default=5 * 1024 * 1024, metadata={
        "help": "largest request body in bytes; larger ones get the vendor's 413"})
    webhooks: str = field(default="on", metadata={
        "help": "on or off: make the outbound calls campaigns configure (webhooks, callbacks); off logs them "
                "as not called"})
    journal_limit: int = field(default=100_000, metadata={
        "help": "capacity of the journal and of the deliveries log; the oldest are evicted (and counted) beyond it"})
    journal_max_bytes: int = field(default=256 * 1024 * 1024, metadata={
        "help": "bytes of request and response bodies the journal keeps, and of content the deliveries log "
                "keeps; the oldest are evicted (and counted) beyond it"})
    request_timeout: float = field(default=30.0, metadata={
        "help": "seconds an idle connection or a half-sent request may take before it is closed"})
    control_token: str | None = field(default=None, repr=False, metadata={
        "help": "token every /_sandbox route except health then requires (header 'Authorization: Bearer "
                "TOKEN' or 'X-Sandbox-Token: TOKEN'); default: no token"})

    rate_limits: bool = field(default=False, metadata={
        "help": "enforce the vendors' documented rate limits for every tenant (429 when exceeded; per tenant: "
                "POST /_sandbox/limits)", "flag": True})

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"--port {self.port}: a TCP port is 0-65535 (0 picks a free one)")
        for name in ("max_body_size", "journal_limit", "journal_max_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if not self.request_timeout > 0:
            raise ValueError(f"--request-timeout must be a positive number of seconds, got {self.request_timeout}")
        for name in ("log_level", "log_format"):
            choices = next(f.metadata["choices"] for f in fields(self) if f.name == name)
            value = getattr(self, name)
            if value.lower() not in choices:
                raise ValueError(f"--{name.replace('_', '-')} {value!r}: choose from {', '.join(choices)}")

    @classmethod
    def from_sources(cls, args: Mapping[str, Any] | None = None,
                     environ: Mapping[str, str] | None = None) -> Settings:
        """Flags given in ``args`` win over ``SANDBOX_<NAME>`` variables, which win over defaults."""
        args = args or {}
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = args.get(f.name)
            if raw is None:
                raw = environ.get(ENV_PREFIX + f.name.upper()) or None
            if raw is not None:
                values[f.name] = _convert(f.name, f.type, raw)
        return cls(**values)

    def fixture(self, relative: str) -> Path:
        """The file for ``relative`` (e.g. "vendor/workspace.json"): the overlay's copy if it has one."""
        from sandbox.core.resources import data_path

        if self.fixtures is not None:
            overlay = self.fixtures / relative
            if overlay.exists():
                return overlay
        return data_path("fixtures") / relative


def _convert(name: str, kind: Any, raw: Any) -> Any:
    kind = str(kind)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        flag = f"{ENV_PREFIX}{name.upper()} / --{name.replace('_', '-')}"
        raise ValueError(f"{flag}: expected true or false, got {raw!r}")
    try:
        if "Path" in kind:
            return Path(raw)
        if "int" in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}{name.upper()} / --{name.replace('_', '-')}: {exc}") from None
    return str(raw)


def add_arguments(parser: argparse.ArgumentParser, only: tuple[str, ...] | None = None) -> None:
    """One ``--flag`` per Settings field (or per field named in ``only``), its help naming the matching
    environment variable."""
    for f in fields(Settings):
        if only is not None and f.name not in only:
            continue
        shown = "" if f.default is None else f"; default: {f.default}"
        flag = "--" + f.name.replace("_", "-")
        help_text = f"{f.metadata['help']} (env {ENV_PREFIX}{f.name.upper()}{shown})"
        if f.metadata.get("flag"):
            parser.add_argument(flag, dest=f.name, default=None, action="store_true",
                                help=f"{f.metadata['help']} (env {ENV_PREFIX}{f.name.upper()}=true)")
        else:
            parser.add_argument(flag, dest=f.name, default=None, metavar=f.name.upper(), help=help_text,
                                choices=f.metadata.get("choices"), type=_checked(f.name, f.type))


def _checked(name: str, kind: Any) -> Any:
    """argparse ``type``: the same conversion as the environment's, so ``--port abc`` is a usage error."""
    if "int" not in str(kind) and "float" not in str(kind):
        return None

    def convert(raw: str) -> str:
        try:
            _convert(name, kind, raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {raw!r}") from None
        return raw

    return convert
