"""Output files that appear only when complete: written under a temporary name beside the
target and renamed over it at the end, so a failed run leaves nothing half-written behind and
can simply be run again."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def complete_file(path: Path) -> Iterator[Path]:
    """A temporary file name beside ``path``, renamed to ``path`` when the block ends.

    Example:
        >>> with complete_file(Path("out/notice.pdf")) as tmp:
        ...     doc = SimpleDocTemplate(str(tmp)); doc.build(story)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f"{path.suffix}.part", dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; outputs are not
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def complete_folder(path: Path) -> Iterator[Path]:
    """A temporary folder beside ``path`` that becomes ``path`` when the block ends.

    ``path`` must not exist or be empty; on failure the temporary folder is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; outputs are not
        if path.is_dir():
            path.rmdir()  # empty: a folder with files is an error (OSError)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
