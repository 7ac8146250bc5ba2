"""Tests of the pose/object detectors on real pixels (ultralytics' asset photos) and of the
torch-free pre/post-processing.

Truth of the photos, stated once: ``bus.jpg`` (810x1080) shows 4 pedestrians in front of a bus,
the 4th cut by the left border; ``zidane.jpg`` (1280x720) shows 2 men (Zidane left, Ancelotti
right). The default confidence 0.35 finds exactly these people.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from pydantic import ValidationError
from scipy.optimize import linear_sum_assignment

import vision.backends.runtimes
from vision.backends.export import ExportError, ExportFormat, export_dir, exported_model
from vision.backends.runtimes import PrecisionError, cpu_capabilities
from vision.backends.torch_runner import DeviceError
from vision.backends.yolo_io import PAD_VALUE, HeadLayout, decode, letterbox
from vision.config.detector import Backend, DetectorConfig, Precision
from vision.detector import DetectorError, ObjectDetector, PoseDetector, require_runtime
from vision.types import FrameDetections, Keypoint, SampledFrame, box_iou
from vision.weights import CACHE_ENV, WeightsError, file_sha256, locate_weights

TS = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PEOPLE = {"bus.jpg": 4, "zidane.jpg": 2}
BACKENDS = [Backend.TORCH, Backend.ONNX, Backend.OPENVINO]


def _asset(name: str) -> npt.NDArray[np.uint8]:
    spec = importlib.util.find_spec("ultralytics")  # locate without importing (no torch)
    assert spec is not None and spec.submodule_search_locations
    image = cv2.imread(str(Path(next(iter(spec.submodule_search_locations))) / "assets" / name))
    assert image is not None, name
    return np.asarray(image, np.uint8)


def _frame(image: npt.NDArray[np.uint8], index: int = 0, camera: str = "cam1") -> SampledFrame:
    return SampledFrame(camera=camera, ts=TS, index=index, image=image)


@pytest.fixture(scope="module")
def detectors() -> dict[Backend, PoseDetector]:
    """One pose detector per backend (exports once into the models cache if missing)."""
    return {b: PoseDetector(DetectorConfig(backend=b, batch=8)) for b in BACKENDS}


@pytest.fixture(scope="module")
def photos() -> dict[str, SampledFrame]:
    return {name: _frame(_asset(name), i) for i, name in enumerate(PEOPLE)}


def _assert_same(ref: FrameDetections, other: FrameDetections, kpt_px: float = 3.0) -> None:
    """Same people: equal counts, boxes matched one-to-one at IoU >= 0.9, keypoints close."""
    assert len(ref) == len(other)
    assert ref.frame_shape == other.frame_shape and ref.keypoints.shape == other.keypoints.shape
    if len(ref) == 0:
        return
    iou = box_iou(ref.xyxy, other.xyxy)
    rows, cols = linear_sum_assignment(-iou)
    assert iou[rows, cols].min() >= 0.9
    np.testing.assert_allclose(ref.confidence[rows], other.confidence[cols], atol=0.02)
    seen = (ref.keypoints[rows, :, 2] > 0.5) & (other.keypoints[cols, :, 2] > 0.5)
    dist = np.linalg.norm(ref.keypoints[rows, :, :2] - other.keypoints[cols, :, :2], axis=2)
    assert dist[seen].max(initial=0.0) <= kpt_px


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("photo", list(PEOPLE))
def test_finds_the_people_in_the_photos(
    detectors: dict[Backend, PoseDetector],
    photos: dict[str, SampledFrame],
    backend: Backend,
    photo: str,
) -> None:
    frame = photos[photo]
    (det,) = detectors[backend].detect([frame])
    h, w = frame.image.shape[:2]
    assert len(det) == PEOPLE[photo]
    assert det.frame_shape == (h, w) and det.camera == "cam1" and det.frame_index == frame.index
    assert det.ts == TS and det.keypoints.shape == (len(det), 17, 3)
    assert (det.class_id == 0).all() and (det.track_id == -1).all()
    assert (det.confidence > 0.35).all() and (np.diff(det.confidence) <= 0).all()
    assert (det.xyxy[:, :2] < det.xyxy[:, 2:]).all()
    assert (det.xyxy >= 0).all() and (det.xyxy[:, [2, 3]] <= [w, h]).all()
    # Seen keypoints lie in their person's box (grown by 15 %: hips below a cut-off frame are
    # extrapolated past the box); everyone stands upright: the nose is above the shoulders.
    ky = det.keypoints[..., 1]
    vis = det.keypoints[..., 2] > 0.5
    grow = 0.15 * (det.xyxy[:, 2:] - det.xyxy[:, :2])
    lo, hi = (det.xyxy[:, :2] - grow)[:, None, :], (det.xyxy[:, 2:] + grow)[:, None, :]
    inside: npt.NDArray[np.bool_] = np.all(
        (det.keypoints[..., :2] >= lo) & (det.keypoints[..., :2] <= hi), axis=2
    )
    assert inside[vis].all()
    nose, shoulders = Keypoint.NOSE, [Keypoint.LEFT_SHOULDER, Keypoint.RIGHT_SHOULDER]
    seen = vis[:, nose] & vis[:, shoulders].all(axis=1)
    assert seen.sum() >= 2 and (ky[seen, nose] < ky[seen][:, shoulders].min(axis=1)).all()


def test_zidane_people_are_left_and_right(
    detectors: dict[Backend, PoseDetector], photos: dict[str, SampledFrame]
) -> None:
    (det,) = detectors[Backend.ONNX].detect([photos["zidane.jpg"]])
    centres = np.sort((det.xyxy[:, 0] + det.xyxy[:, 2]) / 2)
    assert centres[0] < 640 < centres[1]


@pytest.mark.parametrize("backend", [Backend.ONNX, Backend.OPENVINO])
@pytest.mark.parametrize("photo", list(PEOPLE))
def test_backends_agree_with_pytorch(
    detectors: dict[Backend, PoseDetector],
    photos: dict[str, SampledFrame],
    backend: Backend,
    photo: str,
) -> None:
    (ref,) = detectors[Backend.TORCH].detect([photos[photo]])
    (other,) = detectors[backend].detect([photos[photo]])
    _assert_same(ref, other)


@pytest.mark.parametrize("photo", list(PEOPLE))
def test_openvino_bf16_finds_the_same_people_where_the_cpu_has_bf16(
    detectors: dict[Backend, PoseDetector], photos: dict[str, SampledFrame], photo: str
) -> None:
    """On a CPU with bf16 instructions: the same people as f32, boxes at IoU >= 0.9 and
    keypoints within 45 px (3.5 % of the zidane frame's width: bf16 keeps 8 mantissa bits).
    Elsewhere asking for bf16 is refused with the CPU's capabilities named."""
    config = DetectorConfig(backend=Backend.OPENVINO, precision=Precision.BF16)
    if "BF16" not in cpu_capabilities():
        with pytest.raises(PrecisionError, match="needs a CPU with bf16 instructions"):
            PoseDetector(config)
        return
    (ref,) = detectors[Backend.TORCH].detect([photos[photo]])
    (bf16,) = PoseDetector(config).detect([photos[photo]])
    _assert_same(ref, bf16, kpt_px=45.0)


def test_bf16_is_refused_on_a_cpu_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vision.backends.runtimes, "cpu_capabilities", lambda: ["FP32", "INT8"])
    config = DetectorConfig(backend=Backend.OPENVINO, precision=Precision.BF16)
    with pytest.raises(PrecisionError, match="this CPU offers FP32, INT8: set detector.precision"):
        PoseDetector(config)


@pytest.mark.parametrize("photo", list(PEOPLE))
def test_torch_on_cuda_finds_the_same_people_where_a_gpu_is_seen(
    detectors: dict[Backend, PoseDetector], photos: dict[str, SampledFrame], photo: str
) -> None:
    """With a CUDA GPU: the same people as on the CPU. Without one: refused, naming what this
    process sees."""
    import torch

    config = DetectorConfig(backend=Backend.TORCH, device="cuda")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match=r"device cuda is not available: .* 0 CUDA"):
            PoseDetector(config)
        return
    (cpu,) = detectors[Backend.TORCH].detect([photos[photo]])
    (gpu,) = PoseDetector(config).detect([photos[photo]])
    _assert_same(cpu, gpu)


def test_a_gpu_beyond_those_seen_is_refused() -> None:
    with pytest.raises(DeviceError, match="device cuda:64 is not available"):
        PoseDetector(DetectorConfig(backend=Backend.TORCH, device="cuda:64"))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"backend": Backend.ONNX, "device": "cuda"}, "device cuda runs the torch backend only"),
        ({"backend": Backend.TORCH, "device": "gpu"}, "String should match pattern"),
    ],
)
def test_devices_are_checked_in_the_config(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DetectorConfig.model_validate(settings)


@pytest.mark.parametrize("backend", [Backend.TORCH, Backend.ONNX])
def test_bf16_is_an_openvino_setting(backend: Backend) -> None:
    with pytest.raises(ValidationError, match=f"openvino backend only, not on {backend.value}"):
        DetectorConfig(backend=backend, precision=Precision.BF16)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(480, 640), (720, 1280), (97, 333)])
def test_plain_grey_frame_gives_empty_detections(
    detectors: dict[Backend, PoseDetector], backend: Backend, shape: tuple[int, int]
) -> None:
    frame = _frame(np.full((*shape, 3), 128, np.uint8), index=7, camera="cam9")
    (det,) = detectors[backend].detect([frame])
    assert len(det) == 0 and det.xyxy.shape == (0, 4) and det.keypoints.shape == (0, 17, 3)
    assert det.confidence.shape == (0,) and det.class_id.dtype == np.int32
    assert (det.frame_shape, det.camera, det.frame_index, det.ts) == (shape, "cam9", 7, TS)


def _variants(image: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    """Eight same-sized frames with different content (mirror, shift, brightness)."""
    out = []
    for i in range(8):
        moved = np.roll(image[:, ::-1] if i % 2 else image, 24 * i, axis=1)
        im = np.ascontiguousarray(cv2.convertScaleAbs(moved, alpha=1.0, beta=6 * i - 20))
        out.append(np.asarray(im, np.uint8))
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_of_eight_equals_eight_single_frames(
    detectors: dict[Backend, PoseDetector], backend: Backend
) -> None:
    frames = [_frame(im, i) for i, im in enumerate(_variants(_asset("bus.jpg")))]
    batched = detectors[backend].detect(frames)
    single = [detectors[backend].detect([f])[0] for f in frames]
    assert [d.frame_index for d in batched] == list(range(8))
    assert sum(len(d) for d in batched) >= 8 * 3
    for b, s in zip(batched, single, strict=True):
        assert len(b) == len(s)
        np.testing.assert_allclose(b.xyxy, s.xyxy, atol=0.1)
        np.testing.assert_allclose(b.keypoints, s.keypoints, atol=0.1)
        np.testing.assert_allclose(b.confidence, s.confidence, atol=1e-3)


def test_mixed_frame_sizes_in_one_batch(
    detectors: dict[Backend, PoseDetector], photos: dict[str, SampledFrame]
) -> None:
    frames = [photos["bus.jpg"], photos["zidane.jpg"], photos["bus.jpg"]]
    batched = detectors[Backend.ONNX].detect(frames)
    assert [len(d) for d in batched] == [4, 2, 4]
    for b, f in zip(batched, frames, strict=True):
        (single,) = detectors[Backend.ONNX].detect([f])
        np.testing.assert_allclose(b.xyxy, single.xyxy, atol=0.1)
        np.testing.assert_allclose(b.keypoints, single.keypoints, atol=0.1)


def test_onnx_backend_never_imports_torch(detectors: dict[Backend, PoseDetector]) -> None:
    code = (
        "import sys, numpy as np\n"
        "from datetime import datetime, timezone\n"
        "from vision.config.detector import DetectorConfig\n"
        "from vision.detector import PoseDetector\n"
        "from vision.types import SampledFrame\n"
        "d = PoseDetector(DetectorConfig(backend='onnx'))\n"
        "f = SampledFrame('c', datetime.now(timezone.utc), 0, np.zeros((64, 64, 3), np.uint8))\n"
        "d.detect([f])\n"
        "bad = sorted(m for m in ('torch', 'ultralytics') if m in sys.modules)\n"
        "sys.exit(f'imported {bad}' if bad else 0)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_object_detector_needs_an_object_model() -> None:
    with pytest.raises(DetectorError, match="object_model is not set"):
        ObjectDetector(DetectorConfig())


def test_object_detector_refuses_a_pose_weight() -> None:
    with pytest.raises(DetectorError, match="is a pose model"):
        ObjectDetector(DetectorConfig(object_model="yolo11n-pose"))


def test_object_detector_refuses_an_unpinned_weight(tmp_path: Path) -> None:
    (tmp_path / "yolo11n.pt").write_bytes(b"unverified")
    with pytest.raises(WeightsError, match="pins no sha256 for 'yolo11n'"):
        ObjectDetector(DetectorConfig(object_model="yolo11n", models_dir=str(tmp_path)))


@pytest.mark.parametrize(
    ("shape", "tensor_shape", "gain", "pad"),
    [
        ((1080, 810), (1, 3, 640, 480), 640 / 1080, (0, 0)),
        ((720, 1280), (1, 3, 384, 640), 0.5, (0, 12)),
        ((480, 640), (1, 3, 480, 640), 1.0, (0, 0)),
        ((100, 100), (1, 3, 640, 640), 6.4, (0, 0)),
    ],
)
def test_letterbox_geometry(
    shape: tuple[int, int], tensor_shape: tuple[int, ...], gain: float, pad: tuple[int, int]
) -> None:
    lb = letterbox([np.zeros((*shape, 3), np.uint8)], 640)
    assert lb.tensor.shape == tensor_shape and lb.tensor.dtype == np.float32
    np.testing.assert_allclose(lb.gain[0], gain, rtol=1e-3)
    np.testing.assert_array_equal(lb.pad[0], pad)
    if pad[1]:
        np.testing.assert_allclose(lb.tensor[0, :, : pad[1]], PAD_VALUE / 255)


def test_letterbox_converts_bgr_to_rgb() -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    image[..., 0] = 255  # blue in BGR
    tensor = letterbox([image], 64).tensor
    assert tensor[0, 2].min() == 1.0 and tensor[0, 0].max() == 0.0


def _raw_detect_output(boxes: list[tuple[float, float, float, float, int, float]]) -> np.ndarray:
    """Raw (1, 84, anchors) output with one anchor per (cx, cy, w, h, class, score)."""
    out = np.zeros((1, 84, len(boxes)), np.float32)
    for a, (cx, cy, w, h, cls, score) in enumerate(boxes):
        out[0, :4, a] = (cx, cy, w, h)
        out[0, 4 + cls, a] = score
    return out


def test_decode_runs_class_aware_nms_and_class_filter() -> None:
    frame = _frame(np.zeros((320, 640, 3), np.uint8))
    batch = letterbox([frame.image], 640)  # gain 1, no padding
    raw = _raw_detect_output(
        [
            (100, 100, 50, 50, 41, 0.9),  # cup
            (102, 101, 50, 50, 41, 0.8),  # same cup, suppressed by NMS
            (101, 100, 50, 50, 67, 0.7),  # phone on top of it: other class, kept
            (400, 200, 40, 80, 0, 0.3),  # person below confidence
        ]
    )
    layout = HeadLayout(num_classes=80, num_keypoints=0)
    (det,) = decode(raw, layout, batch, [frame], conf=0.35)
    assert det.class_id.tolist() == [41, 67] and det.keypoints.shape == (2, 0, 3)
    np.testing.assert_allclose(det.xyxy[0], [75, 75, 125, 125])
    keep_phone = np.zeros(80, bool)
    keep_phone[67] = True
    (only_phone,) = decode(raw, layout, batch, [frame], conf=0.35, keep_classes=keep_phone)
    assert only_phone.class_id.tolist() == [67]


def test_decode_maps_boxes_back_through_the_padding() -> None:
    frame = _frame(np.zeros((720, 1280, 3), np.uint8))
    batch = letterbox([frame.image], 640)  # gain 0.5, 12 px padding on top
    raw = np.zeros((1, 5 + 3, 1), np.float32)
    raw[0, :, 0] = (320, 112, 100, 50, 0.9, 330, 100, 0.8)  # box + one keypoint
    (det,) = decode(raw, HeadLayout(1, 1), batch, [frame], conf=0.35)
    np.testing.assert_allclose(det.xyxy[0], [540, 150, 740, 250])
    np.testing.assert_allclose(det.keypoints[0, 0], [660, 176, 0.8])


def test_decode_rejects_output_of_another_model() -> None:
    frame = _frame(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="does not match"):
        decode(
            np.zeros((1, 84, 10), np.float32),
            HeadLayout(1, 17),
            letterbox([frame.image], 64),
            [frame],
            conf=0.35,
        )


def test_failed_export_reports_the_exporter_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a torch checkpoint")
    real = locate_weights("yolo11n-pose")
    fake = dataclasses.replace(real, path=broken, sha256=file_sha256(broken))
    with pytest.raises(ExportError, match=r"export of .*broken\.pt to onnx failed \(exit [1-9]"):
        exported_model(fake, ExportFormat.ONNX)
    assert not export_dir(fake, ExportFormat.ONNX).exists()
    assert export_dir(fake, ExportFormat.ONNX) != export_dir(real, ExportFormat.ONNX)


def test_a_backend_whose_runtime_is_missing_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a)
    )
    with pytest.raises(DetectorError, match=r"pip install 'branchwatch\[openvino\]'"):
        require_runtime(ExportFormat.OPENVINO)
    require_runtime(ExportFormat.ONNX)
