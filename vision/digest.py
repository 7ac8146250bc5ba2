"""The one sha256 helper of files: model weights, export files and evidence are hashed here."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

CHUNK = 1 << 20
"""Bytes read at a time."""


@functools.lru_cache(maxsize=256)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    del size, mtime_ns  # part of the cache key only
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, streamed, cached in-process by (path, size, mtime).

    Args:
        path: File to hash.

    Returns:
        Lower-case hex digest.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     file_sha256(Path(f.name))[:8]
        'e3b0c442'
    """
    stat = path.stat()
    return _sha256_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
