"""Running the installed console script as users run it: where it is, and starting ``serve`` until it listens."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = shutil.which("campaign-sandbox") or str(Path(sys.executable).with_name("campaign-sandbox"))


def start(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, str]:
    """(the process, its URL, its startup line) once ``serve`` printed that it is serving."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"serving on (http://[^\s\"]+)", line)
        if found:
            return proc, found.group(1), line.strip()
    proc.kill()
    raise AssertionError(f"server did not start: {proc.stderr.read() if proc.stderr else ''}")
