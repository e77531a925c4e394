"""The ``campaign-sandbox`` command: ``serve``, ``routes`` (operation table), ``population``, ``fixtures``.

Startup failures (a port in use, a host that is not this machine's, an unwritable data dir, a bad accounts,
fixtures or population file...) print one or two lines naming the cause and the fix and exit with 2; the
traceback only with ``--log-level debug``. Ctrl-C and SIGTERM stop the server at any moment, also while the
population is being built, with exit code 0 and a line saying so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import ipaddress
import logging
import os
import signal
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import orjson
from aiohttp import web

from sandbox import __version__
from sandbox.core import keys
from sandbox.settings import Settings, add_arguments

PROG = "campaign-sandbox"
DESCRIPTION = """\
A local sandbox of marketing vendors' campaign APIs (`campaign-sandbox routes` lists them). Point your
client's base URL at http://HOST:PORT: every vendor is served at its real paths on the root and under
/<vendor>/.
Inspect what was received at /_sandbox/requests. Every flag also reads a SANDBOX_* environment variable."""
POPULATION_OPTIONS = ("seed", "data_dir", "population", "population_size", "log_level", "log_format")
EXIT_USAGE = 2
"""Exit code of every startup failure (as argparse uses for bad flags)."""
log = logging.getLogger("sandbox")


class StartupError(Exception):
    """A startup failure users fix themselves: ``cause`` and, when there is one, ``fix``."""

    def __init__(self, cause: str, fix: str = "") -> None:
        super().__init__(cause)
        self.cause = cause
        self.fix = fix


class Stopped(BaseException):
    """SIGINT/SIGTERM while the server was still starting (building or loading the population)."""


class Parser(argparse.ArgumentParser):
    """Usage errors in two lines (what is wrong, where help is) instead of the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n(see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
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
    add_arguments(population, only=POPULATION_OPTIONS)
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
        return EXIT_USAGE
    if args.command == "fixtures":
        return fixtures_command(args.action, Path(args.directory))
    try:
        settings = Settings.from_sources(vars(args))
    except ValueError as exc:
        parser.error(str(exc))
    configure_logging(settings)
    try:
        check_data_dir(settings.data_dir)
        if args.command == "routes":
            return print_routes(settings)
        if args.command == "population":
            return population_command(args.action, settings)
        return serve(settings)
    except BrokenPipeError:  # `campaign-sandbox routes | head`: the reader has what it wanted
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Stopped:
        say(settings, "campaign-sandbox stopped while starting (building or loading the population)")
        return 0
    except Exception as exc:
        return startup_failure(settings, exc)


def startup_failure(settings: Settings, exc: BaseException) -> int:
    """One or two lines on stderr naming the cause (and the fix); the traceback only at debug level."""
    from sandbox.core.persistence import PersistenceError

    if settings.log_level.lower() == "debug":
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, StartupError):
        cause, fix = exc.cause, exc.fix
    elif isinstance(exc, (ValueError, OSError, PersistenceError)):  # bad files and data dirs name themselves
        cause, fix = str(exc), ""
    else:
        cause, fix = f"unexpected {type(exc).__name__}: {exc}", "run with --log-level debug for the traceback"
    lines = [f"{PROG}: error: {cause}"] + ([f"  {fix}"] if fix else [])
    if settings.log_format == "json":
        print(orjson.dumps({"level": "ERROR", "logger": "sandbox", "message": cause, "fix": fix or None}).decode(),
              file=sys.stderr)
    else:
        print("\n".join(lines), file=sys.stderr)
    return EXIT_USAGE


def check_data_dir(data_dir: Path | None) -> None:
    """A data dir that cannot be created or written stops startup before any work is done."""
    if data_dir is None:
        return
    fix = "pick a directory you can write (--data-dir / SANDBOX_DATA_DIR), or fix its permissions"
    if data_dir.exists() and not data_dir.is_dir():
        raise StartupError(f"--data-dir {data_dir} is not a directory", fix)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        raise StartupError(f"--data-dir {data_dir} is not writable: {exc.strerror or exc}", fix) from None


# -- commands ----------------------------------------------------------------------------------------------
def population_command(action: str, settings: Settings) -> int:
    import json

    from sandbox.core.clock import Clock
    from sandbox.population.audience.service import AudienceService

    def progress(done: int, total: int) -> None:
        width = 40
        filled = width * done // max(total, 1)
        print(f"\rbuilding population [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
              end="" if done < total else "\n", file=sys.stderr, flush=True)

    with stoppable():
        service = AudienceService.load(clock=Clock(), data_dir=settings.data_dir, profile_path=settings.population,
                                       seed=settings.seed, size=settings.population_size,
                                       on_progress=progress if action == "build" else None)
    info = service.describe()
    where = settings.data_dir or "memory (pass --data-dir to keep it)"
    print(f"population: {info['size']} users, seed {info['seed']}, reference date {info['reference_date']}, "
          f"{'built' if info['built'] else 'loaded'} in {info['load_seconds']} s, stored in {where}")
    if action == "show":
        print(json.dumps(service.summary(tenant=None), indent=2))
    return 0


def fixtures_command(action: str, directory: Path) -> int:
    from sandbox.core.fixture_files import FixtureError, packaged_fixtures

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
        from sandbox.app import create_app  # it checks the overlay first (check_overlay)

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
    sys.stdout.flush()  # a closed pipe shows here, inside main's BrokenPipeError handling
    return 0


# -- logging ----------------------------------------------------------------------------------------------
class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's ``fields`` and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                                "message": record.getMessage()}
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    logging.getLogger("faker").setLevel(logging.WARNING)  # its locale chatter is not ours to debug
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # the pipeline writes the access log
    logging.getLogger("sandbox.access").setLevel(logging.WARNING if settings.quiet else logging.NOTSET)


def say(settings: Settings, message: str, **fields: Any) -> None:
    """A line on stdout (startup, shutdown): plain text, or one JSON object with ``--log-format json``."""
    if settings.log_format == "json":
        print(orjson.dumps({"time": time.strftime("%Y-%m-%d %H:%M:%S"), "level": "INFO", "logger": "sandbox",
                            "message": message, **fields}, default=str).decode(), flush=True)
    else:
        print(message, flush=True)


# -- serve ------------------------------------------------------------------------------------------------
def serve(settings: Settings) -> int:
    with stoppable(), asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(_serve(settings))
    return 0


@contextlib.contextmanager
def stoppable() -> Iterator[None]:
    """SIGINT/SIGTERM raise ``Stopped`` (even inside the synchronous population build) until the server runs;
    then ``_serve`` replaces these handlers with a graceful stop."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
    from sandbox.app import create_app, load_audience
    from sandbox.population.audience.service import WARM_LIMIT

    preflight_listen(settings)
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
    # Startup builds or loads the population: millions of small long-lived objects. Collecting while they are
    # made only slows the start, and afterwards they belong in the permanent generation, so that collections
    # on the request path never walk them (the journal's own entries stay collectable).
    log.debug("starting: building or loading the population (Ctrl-C stops)")
    gc.disable()
    try:
        load_audience(app, build_progress(settings.population_size))
        await runner.setup()
    finally:
        gc.freeze()
        gc.enable()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise listen_error(settings, exc) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    port = runner.addresses[0][1] if runner.addresses else settings.port
    audience = app[keys.AUDIENCE]
    # A large population's index columns (events, devices, reachability) are built in a thread while the
    # server already answers, so the first estimate does not pay for them (numpy sorts release the GIL).
    if len(audience) > WARM_LIMIT:
        loop.run_in_executor(None, audience.index.warm).add_done_callback(_warmed)
    line, fields = startup_line(app, settings, port)
    say(settings, line, **fields)
    if not settings.control_token and not is_loopback(settings.host):
        log.warning("serving on %s without a control token: anyone who can reach it can read and reset the "
                    "journal; set --control-token / SANDBOX_CONTROL_TOKEN", settings.host)
    try:
        await stop.wait()
    finally:
        app[keys.JOURNAL].wake_all()  # long polls in flight are answered now, not cut off
        await runner.cleanup()
        say(settings, "campaign-sandbox stopped")


def _warmed(done: asyncio.Future[Any]) -> None:
    """The background warm-up failed: say so (the queries build what they need themselves)."""
    if not done.cancelled() and done.exception() is not None:
        log.warning("warming the population index failed (queries build it as they go): %s", done.exception())


def preflight_listen(settings: Settings) -> None:
    """Fail on a port in use or a foreign host now, not after the population was built."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(settings.host, settings.port,
                                                              type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise listen_error(settings, exc) from None


def listen_error(settings: Settings, exc: OSError) -> StartupError:
    where = f"{settings.host}:{settings.port}"
    if exc.errno == errno.EADDRINUSE:
        return StartupError(f"port {settings.port} is in use on {settings.host} (another sandbox or server?)",
                            "stop it, or pick another port with --port (0 picks a free one)")
    if exc.errno == errno.EACCES:
        return StartupError(f"not allowed to listen on {where}: {exc.strerror}",
                            "ports below 1024 need privileges; pick another with --port")
    if isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return StartupError(f"cannot listen on host {settings.host!r}: {exc.strerror or exc}",
                            "use an address of this machine with --host (127.0.0.1, or 0.0.0.0 for all)")
    return StartupError(f"cannot listen on {where}: {exc.strerror or exc}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def startup_line(app: web.Application, settings: Settings, port: int) -> tuple[str, dict[str, Any]]:
    """What is served: URL, vendors, population, data dir, fixtures overlay, accounts file, journal limits."""
    url = f"http://{settings.host}:{port}"
    vendors = [p.name for p in app[keys.PROVIDERS]]
    strict = [p.name for p in app[keys.PROVIDERS] if p.strict]
    mode = "strict" if len(strict) == len(vendors) else f"learn (strict: {', '.join(strict)})" if strict else "learn"
    population = app[keys.AUDIENCE].describe()
    fields = {
        "url": url, "vendors": vendors,
        "population": {k: population.get(k) for k in ("size", "seed", "built", "load_seconds")},
        "data_dir": str(settings.data_dir) if settings.data_dir else None,
        "fixtures": str(settings.fixtures) if settings.fixtures else None,
        "accounts": str(settings.accounts) if settings.accounts else None,
        "mode": mode,
        "journal": {"limit": settings.journal_limit, "max_bytes": settings.journal_max_bytes},
        "control_token": bool(settings.control_token),
    }
    how = "built" if population.get("built") else "loaded"
    line = (f"{PROG} {__version__} serving on {url} (vendors: {', '.join(vendors)}; control API: /_sandbox"
            f"{', token required' if settings.control_token else ''}) | population: {population.get('size')} users, "
            f"seed {population.get('seed')}, {how} in {population.get('load_seconds')} s | data dir: "
            f"{settings.data_dir or 'none (in memory)'} | account data: {mode}, fixtures "
            f"{f'packaged + overlay {settings.fixtures}' if settings.fixtures else 'packaged'} | accounts: "
            f"{settings.accounts or 'any credential'} | journal: {settings.journal_limit} entries, "
            f"{settings.journal_max_bytes // (1024 * 1024)} MiB")
    return line, fields
