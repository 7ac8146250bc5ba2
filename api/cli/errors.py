"""What the command line prints when something goes wrong: one line naming the problem and what
to do, never a traceback (unless ``--debug``); the traceback goes to the log file.

Commands report the errors they expect themselves. Whatever escapes them reaches :func:`run`,
which sorts it: a problem the user can fix (a path, a database, a config, a font, a port) exits
with status 2 and a line saying what to do; anything else is a fault of branchwatch, exits with
status 1 and names the log file that holds its traceback.
"""

from __future__ import annotations

import errno
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy.exc
from rich.console import Console

from api.config import ConfigError
from api.db.session import SchemaError, StoreURLError
from api.logs import debug_enabled, write_log
from vision.fonts import FontMissing
from vision.weights import ManifestError, WeightsError

EXIT_USAGE = 2
"""A problem the user can fix."""
EXIT_FAULT = 1
"""A fault of branchwatch itself (its traceback is in the log file)."""
console = Console(stderr=True, soft_wrap=True)


def _os_message(exc: OSError) -> str:
    if exc.filename is None:
        return f"{exc}; check the path"
    name = exc.filename
    if exc.errno == errno.EADDRINUSE:
        return f"{exc.strerror}; another program listens there: stop it or choose another --port"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"cannot write or read {name}: {exc.strerror}; choose a folder you may write to "
            "or fix its permissions"
        )
    if isinstance(exc, FileNotFoundError):
        return f"{name} does not exist; check the path"
    if exc.errno == errno.ENOSPC:
        return f"no space left writing {name}; free some disk space and run again"
    return f"{name}: {exc.strerror or exc}; check the path"


def _db_message(exc: sqlalchemy.exc.DBAPIError) -> str:
    first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return (
        f"cannot use the database: {first}; check --db (or BRANCHWATCH_DB) and that the server "
        "runs and accepts this user"
    )


def user_message(exc: BaseException) -> str | None:
    """The one line for a problem the user can fix, or ``None`` for a fault of branchwatch."""
    if isinstance(
        exc,
        ConfigError | FontMissing | StoreURLError | SchemaError | WeightsError | ManifestError,
    ):
        return str(exc)
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return _db_message(exc)
    if isinstance(exc, sqlalchemy.exc.ArgumentError):
        return f"{exc}; check --db (or BRANCHWATCH_DB)"
    if isinstance(exc, OSError):
        return _os_message(exc)
    return None


def report(exc: BaseException) -> int:
    """Print the line for an exception that escaped a command, log it; the exit status."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(exc))
    logged = write_log(f"{stamp} {' '.join(sys.argv)}\n{text}")
    if debug_enabled():
        console.print(text, markup=False, highlight=False)
    message = user_message(exc)
    if message is not None:
        console.print(f"[red]{message}[/red]", highlight=False)
        return EXIT_USAGE
    where = f"the traceback is in {logged}" if logged else "run again with --debug to see where"
    console.print(
        f"[red]internal error: {type(exc).__name__}: {exc}; {where}; please report it[/red]",
        highlight=False,
    )
    return EXIT_FAULT


def run(app: Callable[..., object]) -> None:
    """Run the typer app; whatever escapes a command is reported by :func:`report`."""
    try:
        app(prog_name="branchwatch")
    except Exception as exc:  # the one place every escaped error is turned into a line
        sys.exit(report(exc))
