"""Model manifest and model cards. Weights are never committed; see ``manifest.yaml``."""

from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
FONTS_PATH = Path(__file__).with_name("fonts.yaml")
"""The fonts branchwatch sets Chinese text in, with their sources and pinned SHA-256."""
