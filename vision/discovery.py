"""Find DVR/NVR export files and tell which branch, camera and time each one holds.

File names are matched against naming patterns in order: presets for the common export
styles or user regular expressions with named groups ``camera``, ``start`` and optional
``end``. Times in names are local times of the branch. When a name gives the camera but no
time, the container's ``creation_time`` is used. Files whose camera or time cannot be known
are refused with a message naming the file and the patterns tried; non-video files are
ignored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from vision.sampler import VideoError, probe

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".avi", ".mkv", ".ts", ".ps", ".mpg", ".dav", ".m4v", ".mov", ".h264", ".h265"}
)
"""File extensions treated as video (case-insensitive); anything else is ignored."""

_STAMP = r"\d{14}"
PRESETS: dict[str, str] = {
    # Hikvision-style channel exports: ch01_20261122080000_20261122090000.mp4
    "channel_range": rf"^ch(?P<camera>\d+)_(?P<start>{_STAMP})_(?P<end>{_STAMP})$",
    # One file per camera and start: lobby-1_20261122080000.mp4
    "camera_start": rf"^(?P<camera>(?:(?!_{_STAMP}).)+)_(?P<start>{_STAMP})$",
    # Dahua NVR/XVR backups: NVR_ch1_main_20261122080000_20261122090000.dav,
    # XVR_ch2_sub_….avi, 192.168.1.108_ch3_main_….dav (device prefix optional).
    "dahua": (
        rf"^(?:.+_)?ch(?P<camera>\d+)_(?:main|sub\d?|extra\d?)_"
        rf"(?P<start>{_STAMP})_(?P<end>{_STAMP})$"
    ),
}
"""Built-in naming patterns. Every pattern is searched in the file name without its extension."""


@dataclass(frozen=True, slots=True)
class CameraRef:
    """A configured camera as discovery sees it.

    Attributes:
        branch: Branch id.
        camera: Camera id.
        token: Camera token in export file names (e.g. ``01`` for ``ch01_…``).
        folder: Folder name of the branch's exports, ``None`` when there is one branch.
        tz: Time zone of the branch; times in file names are local times.
    """

    branch: str
    camera: str
    token: str
    folder: str | None
    tz: ZoneInfo


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export file matched to its camera and time.

    Attributes:
        path: The file.
        branch: Branch id.
        camera: Camera id.
        start: Wall-clock time of the first frame (aware).
        end: Wall-clock end from the file name, ``None`` when the name has none.
        pattern: Name of the preset or the regex that matched, or ``creation_time``.
    """

    path: Path
    branch: str
    camera: str
    start: datetime
    end: datetime | None
    pattern: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A video file that was refused, with the reason."""

    path: Path
    reason: str


@dataclass(frozen=True, slots=True)
class Discovery:
    """Result of :func:`discover`: matched files sorted by branch, camera and start."""

    files: tuple[ExportFile, ...]
    rejected: tuple[Rejected, ...]


@dataclass(frozen=True, slots=True)
class _Pattern:
    name: str
    regex: re.Pattern[str]


def compile_patterns(naming: Sequence[str]) -> tuple[_Pattern, ...]:
    """Compile preset names and user regular expressions.

    Args:
        naming: Preset names (see :data:`PRESETS`) or regexes with a ``camera`` group and
            optional ``start`` and ``end`` groups.

    Returns:
        Compiled patterns in the given order.

    Raises:
        ValueError: a regex does not compile or lacks the ``camera`` group.
    """
    out = []
    for entry in naming:
        source = PRESETS.get(entry, entry)
        try:
            regex = re.compile(source)
        except re.error as exc:
            raise ValueError(f"naming pattern {entry!r} is not a valid regex: {exc}") from exc
        if "camera" not in regex.groupindex:
            raise ValueError(
                f"naming pattern {entry!r} needs a named group 'camera' "
                f"(presets: {', '.join(PRESETS)})"
            )
        out.append(_Pattern(entry, regex))
    return tuple(out)


def parse_stamp(text: str, tz: ZoneInfo) -> datetime:
    """Parse a local time written as 14 digits, with or without separators.

    Args:
        text: ``20261122080000``, ``2026-11-22 08:00:00``, ``2026-11-22T08-00-00``…
        tz: Time zone of the branch.

    Returns:
        Aware datetime.

    Raises:
        ValueError: not 14 digits or not a valid date and time.
    """
    digits = re.sub(r"\D", "", text)
    if len(digits) != 14:
        raise ValueError(f"time {text!r} does not have the 14 digits YYYYMMDDhhmmss")
    year, month, day, hour, minute, second = (
        int(digits[a:b]) for a, b in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))
    )
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"time {text!r} is not a valid date and time ({exc})") from exc


def _same_token(a: str, b: str) -> bool:
    """Tokens match exactly, or as numbers (``ch1`` and ``ch01`` are the same channel)."""
    if a == b:
        return True
    return a.isdigit() and b.isdigit() and int(a) == int(b)


def _walk(paths: Sequence[Path]) -> Iterator[Path]:
    for root in paths:
        if root.is_file():
            candidates: Iterator[Path] = iter([root])
        elif root.is_dir():
            candidates = (p for p in sorted(root.rglob("*")) if p.is_file())
        else:
            raise FileNotFoundError(f"export path {root} does not exist")
        for path in candidates:
            if path.suffix.lower() in VIDEO_EXTENSIONS:
                yield path


def _branch_cameras(path: Path, cameras: Sequence[CameraRef]) -> list[CameraRef] | str:
    """Cameras of the branch a file belongs to, or a refusal reason."""
    folders = {c.folder for c in cameras if c.folder is not None}
    if not folders:
        return list(cameras)
    for parent in path.parents:
        if parent.name in folders:
            return [c for c in cameras if c.folder == parent.name]
    return f"not under a branch folder (known: {', '.join(sorted(folders))})"


def _match(
    path: Path, patterns: Sequence[_Pattern], branch: Sequence[CameraRef]
) -> ExportFile | Rejected:
    """The first pattern that names a configured camera decides camera and time."""
    tried = ", ".join(p.name for p in patterns)
    unknown: Rejected | None = None
    for pattern in patterns:
        found = pattern.regex.search(path.stem)
        if found is None:
            continue
        token = found.group("camera")
        ref = next((c for c in branch if _same_token(c.token, token)), None)
        if ref is None:
            if unknown is None:
                known = ", ".join(sorted(c.token for c in branch))
                unknown = Rejected(
                    path,
                    f"{path}: camera token {token!r} (pattern {pattern.name}) is not "
                    f"configured for branch {branch[0].branch!r}; known tokens: {known}",
                )
            continue
        groups = found.groupdict()
        if not groups.get("start"):
            return _from_metadata(path, ref, pattern.name, tried)
        try:
            start = parse_stamp(groups["start"], ref.tz)
            end = parse_stamp(groups["end"], ref.tz) if groups.get("end") else None
        except ValueError as exc:
            return Rejected(path, f"{path}: {exc} (pattern {pattern.name})")
        if end is not None and end <= start:
            return Rejected(path, f"{path}: end {end} is not after start {start}")
        return ExportFile(path, ref.branch, ref.camera, start, end, pattern.name)
    return unknown or Rejected(
        path,
        f"{path}: cannot tell camera and start time; the name matches none of the "
        f"patterns tried ({tried})",
    )


def _from_metadata(path: Path, ref: CameraRef, pattern: str, tried: str) -> ExportFile | Rejected:
    try:
        created = probe(path).creation_time
    except VideoError as exc:
        return Rejected(path, f"{exc} (name matched {pattern} without a time)")
    if created is None:
        return Rejected(
            path,
            f"{path}: cannot tell the start time; pattern {pattern} gives the camera but no "
            f"time, and the file has no creation_time (patterns tried: {tried})",
        )
    logger.info("%s: start taken from container creation_time %s", path, created)
    return ExportFile(
        path, ref.branch, ref.camera, created.astimezone(ref.tz), None, "creation_time"
    )


def discover(
    paths: Sequence[Path], naming: Sequence[str], cameras: Sequence[CameraRef]
) -> Discovery:
    """Walk export folders and match every video file to its branch, camera and start.

    Args:
        paths: Files or folders (searched recursively).
        naming: Preset names or user regexes, tried in order.
        cameras: Configured cameras of all branches.

    Returns:
        Matched files sorted by branch, camera and start, and the refused files.

    Raises:
        ValueError: no cameras, or a naming pattern is invalid.
        FileNotFoundError: a path does not exist.

    Example:
        >>> ref = CameraRef("b1", "cam1", "01", None, ZoneInfo("Asia/Shanghai"))
        >>> found = discover([Path("exports")], ["channel_range"], [ref])  # doctest: +SKIP
    """
    if not cameras:
        raise ValueError("no cameras configured; nothing can be matched")
    patterns = compile_patterns(naming)
    files: list[ExportFile] = []
    rejected: list[Rejected] = []
    for path in _walk([Path(p) for p in paths]):
        branch = _branch_cameras(path, cameras)
        if isinstance(branch, str):
            rejected.append(Rejected(path, f"{path}: {branch}"))
            continue
        result = _match(path, patterns, branch)
        if isinstance(result, Rejected):
            logger.warning("%s", result.reason)
            rejected.append(result)
        else:
            files.append(result)
    files.sort(key=lambda f: (f.branch, f.camera, f.start, str(f.path)))
    return Discovery(tuple(files), tuple(rejected))
