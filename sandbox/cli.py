"""The ``campaign-sandbox`` command: ``serve``, ``routes`` (operation table), ``population``, ``fixtures``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from aiohttp import web

from sandbox import __version__
from sandbox.core import keys
from sandbox.settings import Settings, add_arguments

DESCRIPTION = """\
A local sandbox of marketing vendors' campaign APIs (`campaign-sandbox routes` lists them). Point your
client's base URL at http://HOST:PORT: every vendor is served at its real paths on the root and under
/<vendor>/.
Inspect what was received at /_sandbox/requests. Every flag also reads a SANDBOX_* environment variable."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="campaign-sandbox", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"campaign-sandbox {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the sandbox (default 127.0.0.1:8080)",
                                description="Serve every vendor API and the /_sandbox control API.")
    add_arguments(serve)
    routes = commands.add_parser("routes", help="print the operation table (vendor, operation, method, path)")
    add_arguments(routes)
    population = commands.add_parser(
        "population", help="build or inspect the fake population",
        description="build: generate the population into --data-dir (loaded, not rebuilt, by later starts). "
                    "show: print a summary (users, devices per platform, reachable per channel, top events).")
    population.add_argument("action", choices=["build", "show"])
    add_arguments(population)
    fixtures = commands.add_parser(
        "fixtures", help="export the packaged fixtures as a starting overlay, or check an overlay",
        description="export DIR: write the packaged account data (fixtures/<vendor>/*.json) into DIR, to edit "
                    "and serve with --fixtures DIR. check DIR: validate an overlay without serving.")
    fixtures.add_argument("action", choices=["export", "check"])
    fixtures.add_argument("directory", metavar="DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "fixtures":
        return fixtures_command(args.action, Path(args.directory))
    try:
        settings = Settings.from_sources(vars(args))
    except ValueError as exc:
        parser.error(str(exc))
    from sandbox.population.generator import PopulationError

    try:
        if args.command == "routes":
            return print_routes(settings)
        if args.command == "population":
            return population_command(args.action, settings)
        return serve(settings)
    except PopulationError as exc:  # one line, no traceback: the size asked for cannot be served
        print(f"campaign-sandbox: error: {exc}", file=sys.stderr)
        return 2


def population_command(action: str, settings: Settings) -> int:
    import json

    from sandbox.core.clock import Clock
    from sandbox.population.audience.service import AudienceService
    from sandbox.population.generator import summary

    def progress(done: int, total: int) -> None:
        width = 40
        filled = width * done // max(total, 1)
        print(f"\rbuilding population [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
              end="" if done < total else "\n", file=sys.stderr, flush=True)

    service = AudienceService.load(clock=Clock(), data_dir=settings.data_dir, profile_path=settings.population,
                                   seed=settings.seed, size=settings.population_size,
                                   on_progress=progress if action == "build" else None)
    info = service.describe()
    where = settings.data_dir or "memory (pass --data-dir to keep it)"
    print(f"population: {info['size']} users, seed {info['seed']}, reference date {info['reference_date']}, "
          f"{'built' if info['built'] else 'loaded'} in {info['load_seconds']} s, stored in {where}")
    if action == "show":
        print(json.dumps(summary(service.profiles(tenant=None)), indent=2))
    return 0


def fixtures_command(action: str, directory: Path) -> int:
    from sandbox.core.fixture_files import FixtureError, check_overlay, packaged_fixtures

    if action == "export":
        written = 0
        for relative, source in packaged_fixtures().items():
            if relative.startswith("population/"):
                continue
            target = directory / relative
            if target.exists():
                print(f"campaign-sandbox: {target} exists; export into an empty directory", file=sys.stderr)
                return 2
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            written += 1
        print(f"wrote {written} fixture files into {directory}: edit them and serve with --fixtures {directory}")
        return 0
    try:
        check_overlay(directory)
        from sandbox.app import create_app

        app = create_app(Settings(fixtures=directory, population_size=10))
        asyncio.run(_start_and_stop(app))
    except (FixtureError, ValueError) as exc:
        print(f"campaign-sandbox: {exc}", file=sys.stderr)
        return 2
    print(f"{directory}: a valid fixtures overlay")
    return 0


async def _start_and_stop(app: web.Application) -> None:
    """Run every startup hook (fixture loading included) without serving, then clean up."""
    runner = web.AppRunner(app, handle_signals=False)
    try:
        await runner.setup()
    finally:
        await runner.cleanup()


def print_routes(settings: Settings) -> int:
    from sandbox.app import create_app

    app = create_app(settings)
    for provider in app[keys.PROVIDERS]:
        for op in provider.operations():
            print(f"{op.vendor:<10} {op.name:<34} {op.method:<6} {op.path}")
    return 0


def configure_logging(settings: Settings) -> None:
    fmt = ('{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}'
           if settings.log_format == "json" else "%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.basicConfig(level=settings.log_level.upper(), format=fmt, stream=sys.stderr)
    if settings.log_level.lower() != "debug":
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


PROGRESS_MIN = 50_000
"""``serve`` prints build progress (a line per 10 %) for populations of at least this many users."""


def build_progress(size: int | None) -> Callable[[int, int], None] | None:
    """A progress callback printing a line to stderr at every 10 % of a population build."""
    if size is not None and size < PROGRESS_MIN:
        return None
    shown = [0]

    def progress(done: int, total: int) -> None:
        if total < PROGRESS_MIN:
            return
        tenth = 10 * done // total
        if tenth > shown[0] and (done < total or shown[0]):  # a warm load reports only (total, total)
            shown[0] = tenth
            print(f"building population: {tenth * 10}% ({done:,}/{total:,} users)", file=sys.stderr, flush=True)

    return progress


def serve(settings: Settings) -> int:
    from sandbox.core.persistence import PersistenceError

    configure_logging(settings)
    try:
        with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(_serve(settings))
    except PersistenceError as exc:
        print(f"campaign-sandbox: {exc}", file=sys.stderr)
        return 2
    return 0


EVENT_LOOP_ENV = "SANDBOX_EVENT_LOOP"


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (a dependency of the server; ``benchmarks/peers.py``
    measures it), else asyncio's own; ``SANDBOX_EVENT_LOOP=asyncio`` forces asyncio's."""
    if os.environ.get(EVENT_LOOP_ENV, "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve(settings: Settings) -> None:
    from sandbox.app import create_app
    from sandbox.core.persistence import build_lock
    from sandbox.population.audience.service import AudienceService

    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
    # Startup builds or loads the population: millions of small long-lived objects. Collecting while they are
    # made only slows the start, and afterwards they belong in the permanent generation, so that collections
    # on the request path never walk them (the journal's own entries stay collectable).
    gc.disable()
    try:
        with build_lock(settings.data_dir) if settings.data_dir is not None else contextlib.nullcontext():
            app[keys.AUDIENCE] = AudienceService.load(clock=app[keys.CLOCK], data_dir=settings.data_dir,
                                                      profile_path=settings.population, seed=settings.seed,
                                                      size=settings.population_size,
                                                      on_progress=build_progress(settings.population_size))
        await runner.setup()
    finally:
        gc.freeze()
        gc.enable()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else settings.port
    vendors = ", ".join(p.name for p in app[keys.PROVIDERS])
    print(f"campaign-sandbox {__version__} serving on http://{settings.host}:{port} "
          f"(vendors: {vendors}; control API: /_sandbox)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        print("campaign-sandbox stopped", flush=True)
