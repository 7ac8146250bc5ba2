"""Model weights: the manifest of known weights and their verified resolution to a local file.

``models/manifest.yaml`` lists each weight with its task, classes, SHA-256 and ordered sources
(a local models folder, a file inside an installed package, the official URL). A file is used
only when its SHA-256 equals the pinned one; an entry without a pinned hash is refused until the
user pins one in a manifest overlay or passes ``sha256=``. Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError, model_validator

from models import MANIFEST_PATH
from vision.config.base import StrictModel
from vision.digest import file_sha256

logger = logging.getLogger(__name__)

MODELS_ENV = "BRANCHWATCH_MODELS"
"""Environment variable naming the models folder when ``DetectorConfig.models_dir`` is unset."""
CACHE_ENV = "BRANCHWATCH_CACHE"
"""Environment variable naming the cache root (default ``~/.cache/branchwatch``)."""
MANIFEST_ENV = "BRANCHWATCH_MANIFEST"
"""Environment variable naming a user manifest overlay file."""
OVERLAY_NAME = "manifest.yaml"
"""File name of the overlay picked up from the models folder when no other is given."""
DOWNLOAD_TIMEOUT_S = 10.0
"""Socket timeout of URL sources: an offline machine fails fast instead of hanging."""
_CHUNK = 1 << 20

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="Lower-case hex SHA-256.")]


class WeightsError(RuntimeError):
    """No source of a weight gave a verified file; ``tried`` holds each source and why."""

    def __init__(self, message: str, tried: tuple[SourceAttempt, ...] = ()) -> None:
        super().__init__(message)
        self.tried = tried


class ManifestError(ValueError):
    """A manifest or manifest overlay file is unreadable or invalid."""


class Task(StrEnum):
    """What a weight predicts."""

    POSE = "pose"
    DETECT = "detect"


class LocalSource(StrictModel):
    """A file on this machine; ``{models_dir}`` expands to the configured models folder."""

    local: str = Field(min_length=1, max_length=1000, description="Path, may use {models_dir}.")

    def describe(self) -> str:
        """Short human-readable name of the source."""
        return f"local {self.local}"


class PackageSource(StrictModel):
    """A file shipped inside an installed Python package."""

    package: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$", max_length=200, description="Importable package name."
    )
    resource: str = Field(
        min_length=1, max_length=500, description="Path of the file relative to the package folder."
    )

    def describe(self) -> str:
        """Short human-readable name of the source."""
        return f"package {self.package}/{self.resource}"


class UrlSource(StrictModel):
    """An HTTP(S) download, cached in the models cache folder."""

    url: str = Field(
        pattern=r"^https?://\S+/[^/\s]+$",
        max_length=2000,
        description="Download address ending in the file name.",
    )

    def describe(self) -> str:
        """Short human-readable name of the source."""
        return f"url {self.url}"


Source = LocalSource | PackageSource | UrlSource


class WeightEntry(StrictModel):
    """One weight file and where to find it."""

    description: str = Field(default="", max_length=500, description="What the model is.")
    task: Task = Field(description="pose (boxes + keypoints) or detect (boxes only).")
    classes: list[str] | str = Field(
        description="Class names in model order, or the name of a list in class_sets."
    )
    keypoints: int = Field(ge=0, le=133, description="Keypoints per object (0 for detect).")
    imgsz: int = Field(ge=32, le=4096, multiple_of=32, description="Training image size.")
    file: str = Field(
        pattern=r"^[^/\\]+$",
        max_length=200,
        description="File name used in the models folder and the cache.",
    )
    sha256: Sha256 | None = Field(description="Pinned SHA-256; null means refused until pinned.")
    size: int | None = Field(default=None, ge=1, description="File size in bytes, if known.")
    license: str = Field(min_length=1, max_length=100, description="SPDX-like license name.")
    card: str | None = Field(default=None, max_length=200, description="Model card in models/.")
    sources: list[Source] = Field(
        min_length=1, max_length=16, description="Where to look, in order."
    )

    @model_validator(mode="after")
    def _keypoints_match_task(self) -> WeightEntry:
        if (self.task is Task.POSE) != (self.keypoints > 0):
            raise ValueError(
                f"a {self.task.value} model needs keypoints "
                f"{'> 0' if self.task is Task.POSE else '= 0'}, got {self.keypoints}"
            )
        return self


class Manifest(StrictModel):
    """All known weights."""

    version: int = Field(ge=1, le=1, description="Manifest format version.")
    class_sets: dict[str, list[str]] = Field(
        default_factory=dict, description="Named class lists (e.g. coco80)."
    )
    weights: dict[str, WeightEntry] = Field(description="Weights by name.")

    @model_validator(mode="after")
    def _class_references_exist(self) -> Manifest:
        for name, entry in self.weights.items():
            if isinstance(entry.classes, str) and entry.classes not in self.class_sets:
                raise ValueError(
                    f"weight {name!r}: classes {entry.classes!r} is not in "
                    f"class_sets ({', '.join(sorted(self.class_sets)) or 'none'})"
                )
        return self

    def entry(self, name: str) -> WeightEntry:
        """The entry called ``name``.

        Raises:
            WeightsError: No such entry.
        """
        try:
            return self.weights[name]
        except KeyError:
            raise WeightsError(
                f"unknown weight {name!r}; the manifest lists: {', '.join(sorted(self.weights))}"
            ) from None

    def class_names(self, name: str) -> tuple[str, ...]:
        """Class names of weight ``name`` in model output order."""
        classes = self.entry(name).classes
        return tuple(self.class_sets[classes] if isinstance(classes, str) else classes)


@dataclass(frozen=True, slots=True)
class SourceAttempt:
    """One source tried while resolving a weight, and why it failed."""

    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class ResolvedWeights:
    """A verified weight file.

    Attributes:
        name: Weight name in the manifest.
        path: Local file whose hash was checked.
        sha256: Its SHA-256.
        entry: The manifest entry (task, classes, imgsz...).
        class_names: Class names in model output order.
    """

    name: str
    path: Path
    sha256: str
    entry: WeightEntry
    class_names: tuple[str, ...]


class _SourceFailed(Exception):
    """Internal: one source did not give a verified file."""


def models_cache_dir() -> Path:
    """Folder where downloads and exported models are cached.

    Returns:
        ``$BRANCHWATCH_CACHE/models``, or ``~/.cache/branchwatch/models``.
    """
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "branchwatch"
    return base / "models"


def _read_yaml(path: Path) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"manifest {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ManifestError(f"manifest {path} must be a mapping, got {type(data).__name__}")
    return data


def _validation_message(path: Path, exc: ValidationError) -> str:
    lines = [f"invalid manifest {path}:"]
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        lines.append(f"  {loc}: {err['msg']}")
    return "\n".join(lines)


def _merge_overlay(
    base: Mapping[str, Any], overlay: Mapping[str, Any], path: Path
) -> dict[str, Any]:
    """Overlay entries add weights or fill fields of existing ones; pinned hashes stay pinned."""
    unknown = set(overlay) - {"version", "class_sets", "weights"}
    if unknown:
        raise ManifestError(f"manifest overlay {path}: unknown keys {sorted(unknown)}")
    merged = dict(base)
    merged["class_sets"] = {**base.get("class_sets", {}), **(overlay.get("class_sets") or {})}
    weights = dict(base.get("weights", {}))
    for name, patch in (overlay.get("weights") or {}).items():
        if not isinstance(patch, Mapping):
            raise ManifestError(f"manifest overlay {path}: weights.{name} must be a mapping")
        old = weights.get(name)
        if (
            old is not None
            and old.get("sha256")
            and patch.get("sha256", old["sha256"]) != old["sha256"]
        ):
            raise ManifestError(
                f"manifest overlay {path}: weights.{name} changes the pinned sha256 of a built-in "
                "weight; add an entry under a new name for a different file instead"
            )
        weights[name] = {**(old or {}), **patch}
    merged["weights"] = weights
    return merged


def load_manifest(overlay: Path | None = None, base: Path = MANIFEST_PATH) -> Manifest:
    """Load the built-in manifest, optionally merged with a user overlay.

    Args:
        overlay: YAML file whose ``weights`` entries add new weights or patch fields of built-in
            ones (e.g. pin the ``sha256`` of ``yolo11n``). Built-in pinned hashes cannot change.
        base: The built-in manifest.

    Returns:
        The validated manifest.

    Raises:
        ManifestError: A file is unreadable, not YAML, or fails validation (with the field path).

    Example:
        >>> load_manifest().entry("yolo11n-pose").task.value
        'pose'
    """
    data = _read_yaml(base)
    where = base
    if overlay is not None:
        data = _merge_overlay(data, _read_yaml(overlay), overlay)
        where = overlay
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(_validation_message(where, exc)) from exc


def _check_file(path: Path, expected: str | None, name: str) -> Path:
    if not path.is_file():
        raise _SourceFailed(f"not found: {path}")
    got = file_sha256(path)
    if expected is None:
        raise _SourceFailed(
            f"found {path} (sha256 {got}) but the manifest pins no sha256 for {name!r}; if you "
            "trust this file, pin its hash in a manifest overlay or pass sha256="
        )
    if got != expected:
        raise _SourceFailed(f"sha256 mismatch for {path}: expected {expected}, got {got}")
    return path


def _local_path(source: LocalSource, models_dir: Path | None) -> Path:
    if "{models_dir}" in source.local:
        if models_dir is None:
            raise _SourceFailed(
                f"skipped: no models folder set (DetectorConfig.models_dir or ${MODELS_ENV})"
            )
        return Path(source.local.replace("{models_dir}", str(models_dir))).expanduser()
    return Path(source.local).expanduser()


def _package_path(source: PackageSource) -> Path:
    try:
        spec = importlib.util.find_spec(source.package)
    except (ImportError, ValueError) as exc:
        raise _SourceFailed(f"package {source.package!r} cannot be found: {exc}") from exc
    if spec is None or not spec.submodule_search_locations:
        raise _SourceFailed(f"package {source.package!r} is not installed")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / source.resource
        if candidate.is_file():
            return candidate
    raise _SourceFailed(f"package {source.package!r} has no file {source.resource!r}")


def _download(url: str, dest: Path, expected: str) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    logger.info("downloading %s to %s", url, dest)
    try:
        with (
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp,
            part.open("wb") as out,
        ):
            while chunk := resp.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError) as exc:
        part.unlink(missing_ok=True)
        raise _SourceFailed(f"download failed: {exc}") from exc
    got = digest.hexdigest()
    if got != expected:
        part.unlink(missing_ok=True)
        raise _SourceFailed(f"downloaded file has sha256 {got}, expected {expected}; discarded")
    os.replace(part, dest)
    return dest


def _try_source(
    source: Source, name: str, entry: WeightEntry, sha256: str | None, models_dir: Path | None
) -> Path:
    if isinstance(source, LocalSource):
        return _check_file(_local_path(source, models_dir), sha256, name)
    if isinstance(source, PackageSource):
        return _check_file(_package_path(source), sha256, name)
    cached = models_cache_dir() / entry.file
    if sha256 is None:
        raise _SourceFailed(
            f"refused: no pinned sha256 for {name!r}, an unverified file is never downloaded"
        )
    if cached.is_file():
        try:
            return _check_file(cached, sha256, name)
        except _SourceFailed as exc:
            logger.warning("cached %s is unusable (%s); downloading again", cached, exc)
    return _download(source.url, cached, sha256)


def locate_weights(
    name: str,
    models_dir: str | Path | None = None,
    *,
    sha256: str | None = None,
    overlay: Path | None = None,
) -> ResolvedWeights:
    """Find a verified local file for weight ``name``, trying its sources in order.

    Args:
        name: Weight name in the manifest (e.g. ``"yolo11n-pose"``).
        models_dir: Local models folder; defaults to ``$BRANCHWATCH_MODELS``.
        sha256: Hash to require instead of the manifest's (pins an entry that has none).
        overlay: Manifest overlay; defaults to ``$BRANCHWATCH_MANIFEST``, else
            ``{models_dir}/manifest.yaml`` when that file exists.

    Returns:
        The verified file with its manifest entry.

    Raises:
        WeightsError: Unknown name, or no source gave a file with the expected hash; the message
            lists every source tried and why it failed.
        ManifestError: The manifest or overlay is invalid.

    Example:
        >>> locate_weights("yolo11n-pose").path.name
        'yolo11n-pose.pt'
    """
    folder = models_dir if models_dir is not None else os.environ.get(MODELS_ENV) or None
    folder_path = Path(folder).expanduser() if folder is not None else None
    if overlay is None and os.environ.get(MANIFEST_ENV):
        overlay = Path(os.environ[MANIFEST_ENV])
    if overlay is None and folder_path is not None and (folder_path / OVERLAY_NAME).is_file():
        overlay = folder_path / OVERLAY_NAME
    manifest = load_manifest(overlay)
    entry = manifest.entry(name)
    expected = sha256.lower() if sha256 is not None else entry.sha256
    if sha256 is not None and entry.sha256 is not None and expected != entry.sha256:
        raise WeightsError(
            f"sha256= {sha256} contradicts the pinned sha256 {entry.sha256} of "
            f"{name!r}; add an entry under a new name for a different file"
        )
    tried: list[SourceAttempt] = []
    for source in entry.sources:
        try:
            path = _try_source(source, name, entry, expected, folder_path)
        except _SourceFailed as exc:
            tried.append(SourceAttempt(source.describe(), str(exc)))
            logger.debug("weight %s: %s: %s", name, source.describe(), exc)
            continue
        logger.info("weight %s: using %s (%s)", name, path, source.describe())
        # file_sha256 is cached: this is the hash just checked against the expected one
        return ResolvedWeights(name, path, file_sha256(path), entry, manifest.class_names(name))
    lines = [f"cannot load weight {name!r}: no source gave a verified file. Tried:"]
    lines += [f"  {i}. {t.source}: {t.reason}" for i, t in enumerate(tried, 1)]
    lines.append(
        f"Copy {entry.file} into the models folder (DetectorConfig.models_dir or "
        f"${MODELS_ENV}); see models/README.md."
    )
    raise WeightsError("\n".join(lines), tuple(tried))


def resolve_weights(name: str, models_dir: str | Path | None = None) -> Path:
    """Path of a verified local file for weight ``name`` (see :func:`locate_weights`).

    Args:
        name: Weight name in the manifest.
        models_dir: Local models folder; defaults to ``$BRANCHWATCH_MODELS``.

    Returns:
        The verified file.

    Raises:
        WeightsError: No source gave a verified file; the message lists every source tried.

    Example:
        >>> resolve_weights("yolo11n-pose").name
        'yolo11n-pose.pt'
    """
    return locate_weights(name, models_dir).path
