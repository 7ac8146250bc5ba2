"""Model manifest and model cards. Weights are never committed; see ``manifest.yaml``."""

from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
