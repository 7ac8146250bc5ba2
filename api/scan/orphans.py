"""Worker processes that exit when the scan that started them dies, ``kill -9`` included.

A killed driver cannot stop its workers, so each worker watches its parent itself: on Linux it
asks the kernel to send it SIGKILL when the parent goes (``prctl(PR_SET_PDEATHSIG)``), and on
every platform a daemon thread checks once a second that its parent is still the process that
started it and exits the worker when it is not (the fallback where ``prctl`` is unavailable).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
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
