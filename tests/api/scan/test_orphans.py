"""A scan killed with SIGKILL leaves no process behind: pool workers, the multiprocessing
resource tracker and Ray's processes all exit within seconds of the driver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest

from tests.api.scan.conftest import Footage, read_store

GONE_WITHIN_S = 5.0


def _children() -> dict[int, int]:
    """pid → parent pid of every live (not zombie) process."""
    out: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            out[int(entry.name)] = int(fields[1])
    return out


def _descendants(root: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    return pids & set(_children())


def _units_running(db_url: str) -> bool:
    try:
        states = [u[0] for u in read_store(db_url).units.values()]
    except Exception:  # schema not created yet
        return False
    return "done" in states and "running" in states


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_killed_scan_leaves_no_process(
    footage: Footage, tmp_path: Path, executor: str, request: pytest.FixtureRequest
) -> None:
    if executor == "ray":
        request.getfixturevalue("fast_ray_imports")
    db_url = f"sqlite:///{tmp_path / 'bw.db'}"
    command = [
        sys.executable, "-m", "api.cli", "scan", str(footage.folder),
        "-c", str(footage.config_path), "--db", db_url, "--work", str(tmp_path / "work"),
        "--workers", "2", "--executor", executor,
    ]  # fmt: skip
    driver = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while not _units_running(db_url):  # workers loaded (a unit done), one busy
            assert driver.poll() is None, "the scan ended before it could be killed"
            assert time.monotonic() < deadline, "the scan never had a unit running"
            seen |= _descendants(driver.pid)
            time.sleep(0.2)
        seen |= _descendants(driver.pid)
        assert len(seen) >= 3, f"expected workers and a tracker or Ray, saw {len(seen)}"
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + GONE_WITHIN_S
        while _alive(seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = {pid: _command(pid) for pid in _alive(seen)}
        assert not left, f"processes of the killed scan still running after 5 s: {left}"
    finally:
        for pid in _alive(seen):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "?"
