"""Worker processes that exit when the scan that started them dies, ``kill -9`` included.

A killed driver cannot stop its workers, so each worker watches its parent itself: on Linux it
asks the kernel to send it SIGKILL when the parent goes (``prctl(PR_SET_PDEATHSIG)``), and on
every platform a daemon thread checks once a second that its parent is still the process that
started it and exits the worker when it is not (the fallback where ``prctl`` is unavailable).
Processes the scan does not start itself (Ray's raylet, agents and workers) are watched by a
:class:`TreeGuard` process that kills them when the scan dies.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
"""``prctl`` option: signal sent to this process when its parent dies (linux/prctl.h)."""
WATCH_INTERVAL_S = 1.0
"""How often the fallback thread checks the parent."""


def _set_parent_death_signal() -> bool:
    """Ask the kernel for SIGKILL when the parent dies; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0)
    except OSError:
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)  # the parent is gone: nobody is left to collect this worker's results


def exit_with_parent(parent: int) -> None:
    """Make this process exit when ``parent`` (the pid that started it) dies.

    Call it first thing in a worker process. When the parent died before the call (the
    kernel signal would then never come), the process exits at once.
    """
    if not _set_parent_death_signal():
        logger.debug("prctl(PR_SET_PDEATHSIG) unavailable; relying on the parent watch")
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


# --- a guard for process trees this process does not start itself (Ray) ----------------------

GUARD_POLL_S = 0.25
"""How often the guard refreshes the process tree it watches and checks the scan is alive."""


def _process_table() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, start time in clock ticks) of every live process (Linux ``/proc``)."""
    out: dict[int, tuple[int, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            out[int(entry.name)] = (int(fields[1]), fields[19])
    return out


def _tree(root: int, table: dict[int, tuple[int, str]]) -> dict[int, str]:
    """Descendants of ``root`` with their start times."""
    found: dict[int, str] = {}
    frontier = {root}
    while frontier:
        frontier = {p for p, (pp, _) in table.items() if pp in frontier and p not in found}
        found.update({p: table[p][1] for p in frontier})
    return found


def guard_tree(scan: int) -> None:
    """Run by the guard process: remember the scan's descendants, and when the scan is gone,
    SIGKILL every one of them still running (the same process: same pid and start time)."""
    me = os.getpid()
    known: dict[int, str] = {}
    while os.getppid() == scan:
        table = _process_table()
        known.update({p: t for p, t in _tree(scan, table).items() if p != me})
        time.sleep(GUARD_POLL_S)
    table = _process_table()
    for pid, started in known.items():
        if pid in table and table[pid][1] == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class TreeGuard:
    """A small process that kills what this process started, however indirectly (Ray's
    raylet, agents and workers), when this process dies without stopping them (``kill -9``).

    Ray's own fate-sharing stops its servers but leaves agents running for many seconds; the
    guard kills them at once. Linux only (it reads ``/proc``); elsewhere it does nothing.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start watching this process's descendants."""
        if not sys.platform.startswith("linux") or self._proc is not None:
            return
        code = f"from api.scan.orphans import guard_tree; guard_tree({os.getpid()})"
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Stop watching (the processes were stopped the ordinary way)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
