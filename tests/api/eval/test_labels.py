"""Label files: what is accepted, and errors that point at the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.eval.labels import ItemKind, LabelError, load_labels, parse_labels

EVAL = Path(__file__).resolve().parents[3] / "eval"

GOOD = """
name: t
sources: {s: {repo: r, commit: c, licence: CC-BY-4.0}}
items:
  - id: a
    kind: still
    file: a.jpg
    source: s
    counts: [[0, 0, 2]]
"""


def test_the_committed_set_loads_with_enough_clips_and_stills() -> None:
    labels = load_labels(EVAL / "labels.yaml")
    kinds = [i.kind for i in labels.items]
    assert kinds.count(ItemKind.CLIP) >= 10
    assert kinds.count(ItemKind.STILL) >= 10
    for item in labels.items:
        source = labels.sources[item.source]
        assert source.licence and source.commit and item.visible


def test_an_error_names_the_line_and_field() -> None:
    text = GOOD.replace("counts: [[0, 0, 2]]", "counts: [[0, 0, -1]]")
    with pytest.raises(LabelError, match=r"<labels>:9: items\[0\] \(a\)\.counts"):
        parse_labels(text)


def test_presence_must_name_a_drawn_zone() -> None:
    text = GOOD + "    presence: {post: [[1, 2]]}\n"
    with pytest.raises(LabelError, match="zone 'post', which the item does not draw"):
        parse_labels(text)


def test_an_unknown_source_is_refused() -> None:
    with pytest.raises(LabelError, match="names source 'x'"):
        parse_labels(GOOD.replace("source: s", "source: x"))


def test_missing_media_is_named(tmp_path: Path) -> None:
    path = tmp_path / "labels.yaml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(LabelError, match="media file\\(s\\) not found next to it: a.jpg"):
        load_labels(path)


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match="cannot read the label file"):
        load_labels(tmp_path / "nope.yaml")
