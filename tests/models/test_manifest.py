"""Consistency of the shipped manifest with its model cards."""

from __future__ import annotations

import pytest

from models import MANIFEST_PATH
from vision.weights import LocalSource, UrlSource, load_manifest

MANIFEST = load_manifest()


@pytest.mark.parametrize("name", sorted(MANIFEST.weights))
def test_entry_is_documented_and_consistent(name: str) -> None:
    entry = MANIFEST.weights[name]
    assert entry.card is not None
    card = MANIFEST_PATH.with_name(entry.card)
    assert card.is_file()
    assert f"`{name}`" in card.read_text(encoding="utf-8")
    assert f"`{name}`" in MANIFEST_PATH.with_name("README.md").read_text(encoding="utf-8")
    for source in entry.sources:
        if isinstance(source, UrlSource):
            assert source.url.rsplit("/", 1)[1] == entry.file
        if isinstance(source, LocalSource):
            assert source.local.endswith("/" + entry.file)
    names = MANIFEST.class_names(name)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("name", sorted(n for n, e in MANIFEST.weights.items() if e.sha256))
def test_pinned_hash_is_in_the_card(name: str) -> None:
    entry = MANIFEST.weights[name]
    assert entry.sha256 is not None and entry.card is not None
    assert entry.sha256 in MANIFEST_PATH.with_name(entry.card).read_text(encoding="utf-8")
