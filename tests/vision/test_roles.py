import numpy as np
import numpy.typing as npt
import pytest

from tests.vision.perception_scene import (
    CAMERA,
    Footage,
    demo_footage,
    make_detections,
    match_truth,
)
from vision.config import CameraConfig, ZoneConfig
from vision.config.camera import UniformSignature
from vision.observe import TimelineBuilder
from vision.roles import (
    HIST_SIZE,
    NoPersonAtPoint,
    RoleAssigner,
    hist_distance,
    signature_from_click,
    torso_histogram,
)
from vision.types import Keypoint, Role
from vision.zones import CompiledZones

SHAPE = (100, 200)
FULL = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]


def cam(uniforms: list[UniformSignature] | None = None) -> CameraConfig:
    return CameraConfig(
        id=CAMERA,
        zones=[
            ZoneConfig(id="seat", kind="teller_seat", window_id="1",
                       polygon=[(0, 0), (0.2, 0), (0.2, 1), (0, 1)]),
            ZoneConfig(id="guard", kind="guard_post", polygon=[(0.8, 0), (1, 0), (1, 1), (0.8, 1)]),
            ZoneConfig(id="manager", kind="lobby_manager_post",
                       polygon=[(0.4, 0), (0.6, 0), (0.6, 1), (0.4, 1)]),
            ZoneConfig(id="hall", kind="lobby", polygon=[(0.2, 0), (1, 0), (1, 1), (0.2, 1)]),
            ZoneConfig(id="staff_door", kind="restricted",
                       polygon=[(0.0, 0.0), (0.2, 0.0), (0.2, 0.2)]),
        ],
        uniforms=uniforms or [],
    )  # fmt: skip


def assigner(uniforms: list[UniformSignature] | None = None) -> RoleAssigner:
    camera = cam(uniforms)
    return RoleAssigner(camera, CompiledZones.from_camera(camera, SHAPE))


SEAT, GUARD, MANAGER, HALL, DOOR = (np.eye(5, dtype=bool)[i] for i in range(5))
NOWHERE = np.zeros(5, bool)


def solid_hist(bgr: tuple[int, int, int]) -> npt.NDArray[np.float32]:
    image = np.zeros((20, 20, 3), np.uint8)
    image[:] = bgr
    hist: npt.NDArray[np.float32] = torso_histogram(image, np.array([[0, 0, 20, 20]], np.float32),
                           np.zeros((1, 0, 3), np.float32))[0]  # fmt: skip
    return hist


NAVY, BEIGE, RED = solid_hist((90, 30, 20)), solid_hist((150, 190, 210)), solid_hist((0, 0, 220))


@pytest.mark.parametrize(
    ("history", "role"),
    [
        ([SEAT | HALL], Role.TELLER),
        ([GUARD | HALL], Role.GUARD),
        ([MANAGER | HALL], Role.LOBBY_MANAGER),
        ([HALL], Role.CUSTOMER),
        ([NOWHERE], Role.UNKNOWN),
        ([DOOR], Role.UNKNOWN),  # restricted zones say nothing about who someone is
        # History: a guard who walks the hall after 10 samples at the post stays a guard…
        ([GUARD | HALL] * 10 + [HALL] * 20, Role.GUARD),
        # …and a customer who crosses the guard post for one sample stays a customer.
        ([HALL] * 5 + [GUARD | HALL] + [HALL] * 5, Role.CUSTOMER),
    ],
)
def test_roles_from_zones_and_history(history: list[np.ndarray], role: Role) -> None:
    roles = assigner()
    for in_zone in history:
        roles.observe(np.array([7]), in_zone[None], RED[None])
    got, conf = roles.roles(np.array([7]))
    assert Role(got[0]) is role
    assert (conf[0] == 0) == (role is Role.UNKNOWN)
    assert 0 <= conf[0] <= 1


def test_confidence_reflects_mixed_evidence() -> None:
    roles = assigner()
    roles.observe(np.array([1, 2]), np.array([GUARD | HALL, GUARD | HALL]), np.stack([RED, RED]))
    roles.observe(np.array([2]), np.array([HALL]), RED[None])
    _, conf = roles.roles(np.array([1, 2]))
    assert conf[0] == pytest.approx(1.0 / 1.3)
    assert conf[1] < conf[0]


def test_uniform_makes_staff_outside_their_post() -> None:
    guard_uniform = UniformSignature(role="guard", hist=NAVY.tolist())
    roles = assigner([guard_uniform])
    hists = np.stack([NAVY, BEIGE])
    for _ in range(3):
        roles.observe(np.array([1, 2]), np.array([HALL, HALL]), hists)
    got, _ = roles.roles(np.array([1, 2, 99]))
    assert [Role(r) for r in got] == [Role.GUARD, Role.CUSTOMER, Role.UNKNOWN]


def test_untracked_rows_cast_no_votes() -> None:
    roles = assigner()
    roles.observe(np.array([-1]), GUARD[None], RED[None])
    assert roles.roles(np.array([-1]))[0].tolist() == [Role.UNKNOWN]


def test_signature_of_wrong_length_is_refused() -> None:
    bad = UniformSignature(role="teller", hist=[1.0] * 10)
    with pytest.raises(ValueError, match=f"'{CAMERA}'.*signature 0 \\(teller\\).*{HIST_SIZE}"):
        assigner([bad])


# --- torso histograms and calibration ---------------------------------------------------------


def person_image() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A person box whose torso (between shoulder and hip keypoints) is red and whose legs
    and head are blue."""
    image = np.zeros((200, 200, 3), np.uint8)
    image[:] = (200, 0, 0)
    image[60:120, 70:130] = (0, 0, 220)
    kp = np.zeros((1, 17, 3), np.float32)
    kp[0, Keypoint.LEFT_SHOULDER] = (130, 60, 0.9)
    kp[0, Keypoint.RIGHT_SHOULDER] = (70, 60, 0.9)
    kp[0, Keypoint.LEFT_HIP] = (125, 120, 0.9)
    kp[0, Keypoint.RIGHT_HIP] = (75, 120, 0.9)
    return image, np.array([[60, 20, 140, 190]], np.float32), kp


def test_torso_histogram_reads_the_torso() -> None:
    image, box, kp = person_image()
    hist = torso_histogram(image, box, kp)
    assert hist.shape == (1, HIST_SIZE) and hist.dtype == np.float32
    assert hist.sum() == pytest.approx(1.0)
    assert hist_distance(hist, RED[None])[0, 0] < 0.1  # keypoint torso: all red
    no_pose = torso_histogram(image, box, np.zeros((1, 0, 3), np.float32))
    assert hist_distance(no_pose, RED[None])[0, 0] < hist_distance(no_pose, NAVY[None])[0, 0]


def test_torso_histogram_of_a_box_outside_the_image_is_empty() -> None:
    image, _, _ = person_image()
    hist = torso_histogram(image, np.array([[300, 300, 400, 400]], np.float32),
                           np.zeros((1, 0, 3), np.float32))  # fmt: skip
    assert hist.sum() == 0
    assert hist_distance(hist, RED[None])[0, 0] == 1.0


def test_torso_histogram_checks_shapes() -> None:
    image, box, kp = person_image()
    with pytest.raises(ValueError, match="image"):
        torso_histogram(image[..., 0], box, kp)
    with pytest.raises(ValueError, match="boxes"):
        torso_histogram(image, box, np.zeros((2, 17, 3), np.float32))


def test_hist_distance_bounds() -> None:
    d = hist_distance(np.stack([RED, NAVY]), np.stack([RED, NAVY, BEIGE]))
    assert d.shape == (2, 3)
    assert d[0, 0] == pytest.approx(0, abs=1e-3) and d[1, 1] == pytest.approx(0, abs=1e-3)
    assert (d[0, 1:] > 0.9).all()


def test_signature_from_click() -> None:
    image, box, kp = person_image()
    boxes = np.concatenate([box, [[0, 0, 199, 199]]]).astype(np.float32)
    kps = np.concatenate([kp, np.zeros((1, 17, 3), np.float32)])
    dets = make_detections(boxes, kps, frame_shape=(200, 200))
    sig = signature_from_click(image, dets, 100, 90, Role.TELLER)  # inside both: smaller wins
    assert sig.role == "teller" and len(sig.hist) == HIST_SIZE
    assert hist_distance(np.array([sig.hist], np.float32), RED[None])[0, 0] < 0.1
    with pytest.raises(NoPersonAtPoint, match="no person at \\(10, 10\\)"):
        signature_from_click(image, dets[np.array([0])], 10, 10, Role.GUARD)
    with pytest.raises(ValueError, match="customer"):
        signature_from_click(image, dets, 100, 90, Role.CUSTOMER)


# --- generated footage ---------------------------------------------------------------------------


def role_accuracy(footage: Footage, camera: CameraConfig) -> tuple[float, int]:
    """Share of matched person-samples of generated footage whose timeline role is the
    scripted role, and the number of samples compared."""
    builder = TimelineBuilder("b1", camera, footage.frames[0].image.shape[:2])
    for frame, dets in zip(footage.frames, footage.detections, strict=True):
        builder.add(frame, dets, 0.1)
    timeline = builder.build(np.zeros((0, 2)))
    right, total = 0, 0
    h, w = footage.frames[0].image.shape[:2]
    for i, truth_boxes in enumerate(footage.truth_xyxy):
        rows = np.nonzero(timeline.sample == i)[0]
        p, q = match_truth(timeline.xyxy[rows] * np.array([w, h, w, h], np.float32), truth_boxes)
        truth_roles = [footage.truth_role[int(t)] for t in footage.truth_id[i][q]]
        right += sum(int(timeline.role[rows[j]]) == r for j, r in zip(p, truth_roles, strict=True))
        total += len(p)
    return right / total, total


def test_roles_on_generated_footage() -> None:
    """The synth demo branch: lobby (guard at the post, lobby manager who walks out of view
    and back, customers) and counter (two tellers behind the counter, customers at the
    windows): roles right for >= 95% of person-samples of the two cameras together."""
    right, total = 0.0, 0
    for name in ("lobby", "counter"):
        footage = demo_footage(name)
        accuracy, n = role_accuracy(footage, footage.camera)
        print(f"\n{name}: roles right for {accuracy:.1%} of {n} person-samples")  # noqa: T201
        right, total = right + accuracy * n, total + n
    assert total >= 150
    assert right / total >= 0.95


def test_uniform_stands_in_for_an_undrawn_post() -> None:
    """The lobby with no lobby-manager post drawn: the manager passes for a customer, until
    the manager's uniform is calibrated by clicking them on the first frame, as
    ``branchwatch calibrate`` does."""
    footage = demo_footage("lobby")
    manager = next(i for i, r in footage.truth_role.items() if r is Role.LOBBY_MANAGER)
    frame, dets = footage.frames[0], footage.detections[0]
    box = footage.truth_xyxy[0][list(footage.truth_id[0]).index(manager)]
    x, y = float(box[0] + box[2]) / 2, float(box[1] * 0.6 + box[3] * 0.4)
    no_post = [z for z in footage.camera.zones if z.kind != "lobby_manager_post"]
    without = footage.camera.model_copy(update={"zones": no_post})
    accuracy_without, _ = role_accuracy(footage, without)
    uniforms = [signature_from_click(frame.image, dets, x, y, Role.LOBBY_MANAGER)]
    accuracy, n = role_accuracy(footage, without.model_copy(update={"uniforms": uniforms}))
    print(  # noqa: T201
        f"\nno manager post: roles right for {accuracy_without:.1%} without uniforms, "
        f"{accuracy:.1%} of {n} person-samples with the manager's uniform"
    )
    assert accuracy_without < 0.9
    assert accuracy >= 0.95
