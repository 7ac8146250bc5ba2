"""The CJK font everything branchwatch draws or prints is set in, found and verified.

``models/fonts.yaml`` lists each font file with its pinned SHA-256 and ordered sources: Debian's
``fonts-noto-cjk`` where it is installed, else the ``noto-cjk-sans-otc`` wheel that the default
install brings (the same file). A file is used only when its hash matches, as for the weights
(:mod:`vision.weights`). The files are OpenType collections; :attr:`ResolvedFont.index` is the
Simplified Chinese face inside.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import yaml
from fontTools.ttLib import TTCollection  # type: ignore[import-untyped]
from pydantic import Field, ValidationError

from models import FONTS_PATH
from vision.config.base import StrictModel
from vision.digest import file_sha256
from vision.weights import (
    LocalSource,
    PackageSource,
    Sha256,
    _package_path,
    _SourceFailed,
)

logger = logging.getLogger(__name__)

REGULAR = "noto-sans-cjk-regular"
"""Font entry of body text, charts and captions."""
BOLD = "noto-sans-cjk-bold"
"""Font entry of titles and headings."""
INSTALL_HINT = "reinstall branchwatch (its dependency noto-cjk-sans-otc ships the font)"


class FontMissing(FileNotFoundError):
    """No source of a font gave a verified file holding the wanted face."""


class FontEntry(StrictModel):
    """One font file and where to find it."""

    description: str = Field(default="", max_length=500, description="What the font is.")
    file: str = Field(pattern=r"^[^/\\]+$", max_length=200, description="File name.")
    face: str = Field(min_length=1, max_length=100, description="Family name of the face used.")
    sha256: Sha256 = Field(description="Pinned SHA-256 of the file.")
    size: int = Field(ge=1, description="File size in bytes.")
    license: str = Field(min_length=1, max_length=100, description="SPDX license name.")
    fallback: str | None = Field(
        default=None, description="Entry used instead when no source of this one is usable."
    )
    sources: list[LocalSource | PackageSource] = Field(
        min_length=1, max_length=16, description="Where to look, in order."
    )


class FontManifest(StrictModel):
    """All fonts branchwatch uses."""

    version: int = Field(ge=1, le=1, description="Format version.")
    fonts: dict[str, FontEntry] = Field(description="Fonts by name.")


@dataclass(frozen=True, slots=True)
class ResolvedFont:
    """A verified font file.

    Attributes:
        name: Entry name in ``models/fonts.yaml`` (the fallback's, when that was used).
        path: The file whose hash was checked.
        sha256: Its SHA-256.
        face: Family name of the face used.
        index: Index of that face in the collection (fontTools ``fontNumber``, Pillow ``index``).
        source: Which source gave the file.
    """

    name: str
    path: Path
    sha256: str
    face: str
    index: int
    source: str


def load_fonts(path: Path = FONTS_PATH) -> FontManifest:
    """The font manifest.

    Raises:
        FontMissing: The manifest is unreadable or invalid.
    """
    try:
        return FontManifest.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise FontMissing(f"font manifest {path} is unusable: {exc}") from exc


def face_index(path: Path, family: str) -> int:
    """Index of the face whose family name is ``family`` inside a font collection.

    Raises:
        FontMissing: The file holds no such face.
    """
    collection = TTCollection(str(path), lazy=True)
    try:
        for i, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1) == family:
                return i
    finally:
        collection.close()
    raise FontMissing(f"{path} has no face named {family!r}")


def _source_path(source: LocalSource | PackageSource) -> Path:
    if isinstance(source, LocalSource):
        return Path(source.local).expanduser()
    return _package_path(source)


def _try(entry: FontEntry, source: LocalSource | PackageSource) -> Path:
    path = _source_path(source)
    if not path.is_file():
        raise FileNotFoundError(f"not found: {path}")
    got = file_sha256(path)
    if got != entry.sha256:
        raise ValueError(f"sha256 mismatch for {path}: expected {entry.sha256}, got {got}")
    return path


@functools.lru_cache(maxsize=8)
def locate_font(name: str = REGULAR, manifest: Path = FONTS_PATH) -> ResolvedFont:
    """A verified local file of font ``name``, trying its sources in order, then its fallback.

    Args:
        name: Entry of ``models/fonts.yaml``.
        manifest: The font manifest.

    Returns:
        The file, its hash and the index of the wanted face.

    Raises:
        FontMissing: No source (nor the fallback) gave a verified file; the message lists every
            source tried and why it failed.

    Example:
        >>> locate_font().face
        'Noto Sans CJK SC'
    """
    fonts = load_fonts(manifest).fonts
    if name not in fonts:
        raise FontMissing(f"unknown font {name!r}; {manifest} lists: {', '.join(sorted(fonts))}")
    entry = fonts[name]
    tried: list[str] = []
    for source in entry.sources:
        try:
            path = _try(entry, source)
        except (OSError, ValueError, _SourceFailed) as exc:
            tried.append(f"{source.describe()}: {exc}")
            continue
        logger.debug("font %s: using %s (%s)", name, path, source.describe())
        return ResolvedFont(
            name, path, entry.sha256, entry.face, face_index(path, entry.face), source.describe()
        )
    if entry.fallback is not None:
        logger.debug("font %s: none of its sources is usable (%s)", name, "; ".join(tried))
        return locate_font(entry.fallback, manifest)
    raise FontMissing(
        f"font {entry.face} ({entry.file}) not found; tried {'; '.join(tried)}. {INSTALL_HINT}"
    )
