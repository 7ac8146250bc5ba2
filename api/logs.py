"""Where branchwatch logs go when a command runs: warnings and errors with their tracebacks to
a log file, the terminal without tracebacks (unless ``--debug``), in the command's process and
in the worker processes it starts."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from vision.weights import CACHE_ENV

LOG_ENV = "BRANCHWATCH_LOG"
"""Environment variable naming the log file (default ``~/.cache/branchwatch/branchwatch.log``)."""

DEBUG_ENV = "BRANCHWATCH_DEBUG"
"""Set to 1 by ``--debug``, so that worker processes print tracebacks too."""


def set_debug(on: bool) -> None:
    """Print tracebacks on the terminal too (``--debug``); worker processes inherit it."""
    if on:
        os.environ[DEBUG_ENV] = "1"
    else:
        os.environ.pop(DEBUG_ENV, None)


def debug_enabled() -> bool:
    """Whether ``--debug`` was given (here or in the command that started this process)."""
    return os.environ.get(DEBUG_ENV) == "1"


def worker_logging() -> None:
    """Logging of a worker process started by a command: warnings and errors to the terminal
    without tracebacks, and with them to the log file."""
    terminal = logging.StreamHandler()
    terminal.addFilter(NoTraceback())
    root = logging.getLogger()
    root.addHandler(LogFileHandler())
    root.addHandler(terminal)
    root.setLevel(logging.WARNING)


def log_path() -> Path:
    """The log file: ``$BRANCHWATCH_LOG``, else ``branchwatch.log`` in the cache folder."""
    if os.environ.get(LOG_ENV):
        return Path(os.environ[LOG_ENV]).expanduser()
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "branchwatch"
    return base / "branchwatch.log"


class LogFileHandler(logging.Handler):
    """Appends warnings and errors, with their tracebacks, to :func:`log_path`.

    The file is opened per record, so a folder that cannot be written costs nothing until
    something is logged, and then only the record is lost (never a traceback on the terminal).
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        """Append one record; a failure to write is ignored."""
        write_log(self.format(record))


def write_log(text: str) -> Path | None:
    """Append ``text`` to the log file; its path, or ``None`` when it cannot be written."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n")
    except OSError:
        return None
    return path


class NoTraceback(logging.Filter):
    """Keeps tracebacks of log records off the terminal (they go to the log file)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop the record's exception info unless ``--debug``; keep the record."""
        if record.exc_info and not debug_enabled():
            kind, value = record.exc_info[0], record.exc_info[1]
            if kind is not None:
                record.msg = f"{record.getMessage()}: {kind.__name__}: {value}"
                record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
