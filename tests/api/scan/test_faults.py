"""Fault tests of the nightly run: real worker processes, real Ray, real PostgreSQL.

Every faulted run is compared with a clean run of the same footage by event key: no event may
be lost or stored twice, every decodable file is stored once, the corrupt file fails alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from api.scan.options import ScanOptions
from api.scan.run import run_scan
from tests.api.scan.conftest import CORRUPT_NAME, Footage, StoreContent, read_store

pytestmark = pytest.mark.postgres

BRANCHWATCH = Path(sys.executable).parent / "branchwatch"
PG_CLUSTER = ("pg_ctlcluster", "--skip-systemctl-redirect")


def _scan_in_process(footage: Footage, db_url: str, work: Path, **kwargs: object) -> None:
    options = ScanOptions.build(db_url=db_url, work_dir=work, workers=2, **kwargs)  # type: ignore[arg-type]
    run_scan(
        footage.site,
        footage.config_path,
        [footage.folder],
        options,
        console=Console(file=open(os.devnull, "w")),
    )


def _scan_command(footage: Footage, db_url: str, work: Path) -> list[str]:
    return [
        str(BRANCHWATCH),
        "scan",
        str(footage.folder),
        "-c",
        str(footage.config_path),
        "--db",
        db_url,
        "--work",
        str(work),
        "--workers",
        "2",
    ]


def _wait_for(what: str, check: Callable[[], bool], timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def _states(db_url: str) -> list[str]:
    try:
        return [u[0] for u in read_store(db_url).units.values()]
    except Exception:  # schema not created yet, or the server is restarting
        return []


def _mid_run(db_url: str) -> bool:
    states = _states(db_url)
    return "done" in states and "running" in states


def _kill_mid_run(db_url: str, match: Callable[[int, str], bool], killed: list[int]) -> None:
    """SIGKILL the first process ``match(ppid, cmdline)`` picks while the workers are loaded
    (a unit finished) and a unit is running; files take about a second here, so no waiting."""

    def busy_worker() -> int | None:
        if not _mid_run(db_url):
            return None
        return next((pid for pid, (pp, cmd) in _processes().items() if match(pp, cmd)), None)

    pid: int | None = None

    def found() -> bool:
        nonlocal pid
        pid = busy_worker()
        return pid is not None

    _wait_for("a worker busy with a unit after one finished", found)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    killed.append(pid)


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, command line) of every process."""
    out: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmd)
    return out


def _assert_same_as_clean(content: StoreContent, clean: StoreContent, footage: Footage) -> None:
    assert content.event_keys == clean.event_keys, "events lost or duplicated"
    assert len(set(content.event_keys)) == len(content.event_keys)
    assert content.video_count == footage.videos + 1  # the corrupt file is stored as failed
    done = [n for n, u in content.units.items() if u[0] == "done"]
    assert len(done) == footage.videos
    assert content.units[CORRUPT_NAME][0] == "failed"


@pytest.fixture(scope="module")
def clean(footage: Footage, tmp_path_factory: pytest.TempPathFactory) -> StoreContent:
    """A clean local run (SQLite) of the footage with the corrupt file."""
    root = tmp_path_factory.mktemp("clean")
    url = f"sqlite:///{root / 'clean.db'}"
    _scan_in_process(footage, url, root / "work")
    return read_store(url)


def test_corrupt_file_fails_alone_with_its_reason(clean: StoreContent, footage: Footage) -> None:
    state, attempts, reason, bad_input = clean.units[CORRUPT_NAME]
    assert (state, attempts, bad_input) == ("failed", 1, True)
    assert reason is not None and CORRUPT_NAME in reason
    others = {n: u for n, u in clean.units.items() if n != CORRUPT_NAME}
    assert len(others) == footage.videos
    assert all(u[:2] == ("done", 1) for u in others.values())
    assert clean.event_keys, "the footage must yield events for the comparisons to mean anything"


def test_worker_killed_mid_file_loses_and_duplicates_nothing(
    clean: StoreContent, footage: Footage, pg_url: str, tmp_path: Path
) -> None:
    killed: list[int] = []

    def kill_a_worker() -> None:
        me = os.getpid()
        _kill_mid_run(pg_url, lambda ppid, cmd: ppid == me and "spawn_main" in cmd, killed)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    _scan_in_process(footage, pg_url, tmp_path / "work")
    killer.join()
    assert killed, "no worker process was found to kill"
    content = read_store(pg_url)
    _assert_same_as_clean(content, clean, footage)
    assert max(u[1] for u in content.units.values()) >= 2, "the killed unit was not redone"


def test_driver_killed_then_rerun_completes_the_same(
    clean: StoreContent, footage: Footage, pg_url: str, tmp_path: Path
) -> None:
    command = _scan_command(footage, pg_url, tmp_path / "work")
    driver = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for("a finished unit", lambda: "done" in _states(pg_url))
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    finally:
        os.killpg(driver.pid, signal.SIGKILL)  # its orphaned pool workers
    before = read_store(pg_url)
    done_before = {n for n, u in before.units.items() if u[0] == "done"}
    assert done_before and len(done_before) < footage.videos, "kill did not land mid-run"
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    after = read_store(pg_url)
    _assert_same_as_clean(after, clean, footage)
    assert all(after.units[n][1] == 1 for n in done_before), "finished units were redone"


def _pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


def test_postgres_restart_mid_run_completes(
    clean: StoreContent, footage: Footage, pg_url: str, tmp_path: Path
) -> None:
    command = _scan_command(footage, pg_url, tmp_path / "work")
    driver = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_for("a finished unit", lambda: "done" in _states(pg_url))
        try:
            subprocess.run([*PG_CLUSTER, _pg_version(), "main", "restart"], check=True, timeout=60)
        finally:
            subprocess.run(
                [*PG_CLUSTER, _pg_version(), "main", "start"],
                check=False,
                capture_output=True,
                timeout=60,
            )
        output, _ = driver.communicate(timeout=600)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == 0, output[-3000:]
    _assert_same_as_clean(read_store(pg_url), clean, footage)


@pytest.mark.usefixtures("fast_ray_imports")
def test_ray_actor_killed_mid_file_is_retried(
    clean: StoreContent, footage: Footage, pg_url: str, tmp_path: Path
) -> None:
    killed: list[int] = []

    def kill_an_actor() -> None:
        # Ray titles an actor process ``ray::UnitWorker.analyse`` while it runs a task.
        _kill_mid_run(pg_url, lambda _, cmd: cmd.startswith("ray::UnitWorker.analyse"), killed)

    killer = threading.Thread(target=kill_an_actor)
    killer.start()
    _scan_in_process(footage, pg_url, tmp_path / "work", executor="ray")
    killer.join()
    assert killed, "no Ray actor process was found to kill"
    content = read_store(pg_url)
    _assert_same_as_clean(content, clean, footage)
    assert max(u[1] for u in content.units.values()) >= 2, "the killed unit was not redone"
