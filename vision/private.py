"""Evidence files are private to the account that runs branchwatch: folders 0700, files 0600.

Stills and clips show bank staff and customers; nobody else on the machine should read them.
Writers create the folder with :func:`private_folder` and publish a finished temporary file with
:func:`publish_private`, which makes it 0600 before the rename.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> None:
    """Create ``path`` (and missing parents) readable by the owner only; existing ones stay."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)


def publish_private(tmp: Path, path: Path) -> None:
    """Make a finished temporary file 0600 and rename it to ``path`` (atomic)."""
    os.chmod(tmp, FILE_MODE)
    tmp.replace(path)
