"""Queue-machine call logs (叫号记录): CSV files with the window and time of each call.

Expected layout: a header row, then one call per line. The window column may be named
``window``, ``window_id``, ``窗口`` or ``窗口号``; the time column ``time``, ``ts``,
``call_time``, ``叫号时间`` or ``时间``. Other columns (ticket number …) are ignored. Times are
ISO 8601 (``2026-11-23 09:01:05`` or with an offset) or UTC epoch seconds; times without an
offset are local to the branch. Files in UTF-8 (with or without BOM) or GB18030 are read.

Example::

    window,time,ticket
    1,2026-11-23 09:01:05,A001
    2,2026-11-23 09:01:40,A002
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rules.registry import CallRecord

logger = logging.getLogger(__name__)

WINDOW_COLUMNS = ("window", "window_id", "窗口", "窗口号")
TIME_COLUMNS = ("time", "ts", "call_time", "叫号时间", "时间")


class CallLogError(ValueError):
    """A call log that cannot be read; the message names the file and line."""


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CallLogError(f"{path}: not UTF-8 or GB18030 text")


def _column(header: list[str], names: tuple[str, ...], what: str, path: Path) -> int:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    raise CallLogError(
        f"{path}:1: no {what} column; expected one of {', '.join(names)}, got {header}"
    )


def parse_call_time(text: str, tz: ZoneInfo) -> float:
    """A call time as UTC epoch seconds.

    Args:
        text: ISO 8601 time (naive times are local to ``tz``) or epoch seconds.
        tz: The branch's time zone.

    Returns:
        UTC epoch seconds.

    Raises:
        ValueError: The text is neither.

    Example:
        >>> parse_call_time("2026-11-23 09:00:00", ZoneInfo("Asia/Shanghai"))
        1795395600.0
    """
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.timestamp()


def read_call_log(path: Path, tz: ZoneInfo) -> tuple[CallRecord, ...]:
    """Read a queue-machine call log.

    Args:
        path: CSV file (see the module docstring for its layout).
        tz: Time zone of naive times.

    Returns:
        The calls, sorted by time.

    Raises:
        CallLogError: The file is missing, empty, lacks a column, or a line is malformed;
            the message names the file and line.
    """
    try:
        text = _decode(path)
    except OSError as exc:
        raise CallLogError(f"{path}: cannot read call log: {exc.strerror}") from exc
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header:
        raise CallLogError(f"{path}: empty call log (a header row is required)")
    wi = _column(header, WINDOW_COLUMNS, "window", path)
    ti = _column(header, TIME_COLUMNS, "time", path)
    calls: list[CallRecord] = []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(wi, ti):
            raise CallLogError(f"{path}:{line}: expected at least {max(wi, ti) + 1} columns")
        window = row[wi].strip()
        if not window:
            raise CallLogError(f"{path}:{line}: empty window")
        try:
            ts = parse_call_time(row[ti], tz)
        except ValueError as exc:
            raise CallLogError(f"{path}:{line}: bad time {row[ti].strip()!r}: {exc}") from exc
        calls.append(CallRecord(window_id=window, ts=ts))
    calls.sort(key=lambda c: (c.ts, c.window_id))
    logger.debug("%s: %d call(s)", path, len(calls))
    return tuple(calls)
