"""Tenant state kept across restarts with ``--data-dir``: snapshots, the server lock, the build lock.

What a snapshot holds: every provider's ``export_state()`` (campaigns, schedules, lists, run-time dashboard
additions, id sequences), the population's per-tenant writes, the deliveries log and the clock offsets; not
the journal. It is written atomically (a unique temporary file, fsync, rename) every ``INTERVAL`` seconds
while requests keep coming and once more on a clean shutdown; it is read back on start. So a ``kill -9``
loses at most the last ``INTERVAL`` seconds, a SIGTERM nothing.

One snapshot file per population fingerprint: a data dir that served another population (size, seed,
profile) keeps that population's state apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

INTERVAL = 2.0
"""Seconds between snapshots while state changes (the most a ``kill -9`` can lose)."""
FORMAT = 1
LOCK_FILE = "server.lock"
BUILD_LOCK_FILE = "build.lock"
STATE_PREFIX = "state-"
log = logging.getLogger("sandbox")


class PersistenceError(RuntimeError):
    """A data dir the server cannot use: in use by another server, unreadable or corrupt state (one line)."""


class ServerLock:
    """``<data dir>/server.lock``, held while a server uses the data dir; names the holder when taken."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise PersistenceError(
                f"data dir {self.path.parent} is in use by {holder}: stop that server or give this one "
                "another --data-dir") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"campaign-sandbox pid {os.getpid()}".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def build_lock(directory: Path) -> Iterator[None]:
    """Held while a process builds or loads the population in ``directory``: with several processes on one
    data dir (pytest-xdist workers), one builds and the others wait, then load what it built."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / BUILD_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Snapshots:
    """Writes and reads one data dir's state snapshot for one population fingerprint."""

    def __init__(self, directory: Path, fingerprint: str, collect: Callable[[], dict[str, Any]],
                 changes: Callable[[], int]) -> None:
        self.path = directory / f"{STATE_PREFIX}{fingerprint[:16]}.pickle"
        self._collect = collect
        self._changes = changes
        self._saved_at = -1
        self.writes = 0

    def load(self) -> dict[str, Any] | None:
        """The saved state, None when there is none; PersistenceError (one line) when it cannot be used."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PersistenceError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            data = pickle.loads(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("not a campaign-sandbox state snapshot of this version")
        except Exception as exc:
            raise PersistenceError(
                f"{self.path} is truncated or corrupt ({type(exc).__name__}: {str(exc)[:80]}): delete it to start "
                "without the saved state, or start with --rebuild") from None
        return data

    def save(self, force: bool = False) -> bool:
        """Write a snapshot if anything changed since the last one (or ``force``); True when written."""
        changes = self._changes()
        if not force and changes == self._saved_at:
            return False
        data = {"format": FORMAT, **self._collect()}
        raw = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._saved_at = changes
        self.writes += 1
        return True

    async def run(self, interval: float = INTERVAL) -> None:
        """Save every ``interval`` seconds while state changes (cancelled at shutdown)."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.save()
            except Exception as exc:  # a full disk must not take the server down; say so and go on
                log.warning("could not save the sandbox state to %s: %s", self.path, exc)
