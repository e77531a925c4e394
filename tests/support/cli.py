"""Running the installed console script as users run it: the script's path and ``start`` helpers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = shutil.which("campaign-sandbox") or str(Path(sys.executable).with_name("campaign-sandbox"))


def start(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start the server; wait for its "serving on URL" line; the process and the URL."""
    proc, url, _ = start_with_line(args, env)
    return proc, url


def start_with_line(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, str]:
    """Start the server; wait for its "serving on URL" line; the process, the URL and that startup line."""
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
