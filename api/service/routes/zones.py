"""The zone editor (admin only): a camera's clean reference frame with its zones, drawn and
edited as polygons in the browser, checked like the configuration and saved back to the site
YAML with its comments kept (:func:`api.calibration.set_zones`); a preview shows what the
drawn zones would change on the camera's last night. ``branchwatch calibrate`` and the YAML
file stay the way to do it without a browser.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import cv2
from fastapi import APIRouter, HTTPException, Request, status
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from api.auth import Principal, Role
from api.calibration import CalibrationError, set_zones
from api.config import ConfigError, SiteConfig, load_config
from api.db.models import Video
from api.scan.driver import references_root
from api.service.deps import ChangingUser, PageUser, SessionDep, SettingsDep
from api.service.settings import Settings
from api.zone_preview import ZonePreview, preview_zones
from rules.registry import RuleContext, validate_rule_settings
from rules.standard import item_name
from vision.config import CameraConfig, ZoneConfig
from vision.config.zone import ZoneKind
from vision.reference import ReferenceError, ReferenceStore
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)

router = APIRouter(tags=["zones"], include_in_schema=False)

Id = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
ZONE_KIND_NAMES = {
    "customer_view": "客户视线区",
    "counter_window": "窗口一米线内",
    "teller_seat": "柜员席",
    "lobby": "大堂",
    "lobby_manager_post": "大堂经理岗",
    "guard_post": "保安岗",
    "self_service": "自助区",
    "restricted": "限制区域",
    "ignore": "忽略区域",
    "screen": "显示屏",
}
"""Chinese names of the zone kinds, in the editor's list."""


class DrawnZones(BaseModel):
    """What the editor sends: the camera's zones as drawn (checked as the config checks them)."""

    zones: list[dict[str, Any]] = Field(max_length=100)


def _admin(principal: Principal) -> None:
    if principal.role is not Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "仅管理员可编辑区域")


def _site(settings: Settings) -> tuple[Path, SiteConfig]:
    if settings.config is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "区域编辑未启用：请设置 BRANCHWATCH_CONFIG（站点配置文件）后重启服务",
        )
    try:
        return settings.config, load_config(settings.config)
    except ConfigError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"站点配置无法读取：{exc}") from exc


def _camera(site: SiteConfig, branch: str, camera: str) -> CameraConfig:
    try:
        return site.branch(branch).camera(camera)
    except (KeyError, ValueError) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "配置中没有该网点或摄像机") from exc


def _drawn(body: DrawnZones, camera: CameraConfig) -> CameraConfig:
    """The camera with the drawn zones, checked like the configuration (422 naming the zone)."""
    zones: list[ZoneConfig] = []
    for i, raw in enumerate(body.zones):
        try:
            zones.append(ZoneConfig.model_validate(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            name = raw.get("id") or f"第{i + 1}个"
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"区域 {name}：{where}: {err['msg']}"
            ) from exc
    try:
        return CameraConfig.model_validate(
            {**camera.model_dump(), "zones": [z.model_dump() for z in zones]}
        )
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc.errors()[0]["msg"])
        ) from exc


@router.get("/cameras/{branch}/{camera}/zones", response_class=HTMLResponse)
def zone_editor(
    request: Request, principal: PageUser, settings: SettingsDep, branch: Id, camera: Id
) -> Response:
    """The editor page of one camera."""
    _admin(principal)
    _, site = _site(settings)
    cam = _camera(site, branch, camera)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "zones.html",
        {
            "principal": principal,
            "branch": branch,
            "camera": cam,
            "zones": [z.model_dump(mode="json") for z in cam.zones],
            "kinds": [(k.value, ZONE_KIND_NAMES.get(k.value, k.value)) for k in ZoneKind],
            "has_reference": _reference_png(settings, branch, camera) is not None,
        },
    )
    return response


def _reference_png(settings: Settings, branch: str, camera: str) -> bytes | None:
    if settings.work_dir is None:
        return None
    try:
        still = ReferenceStore(references_root(settings.work_dir)).load(branch, camera)
    except ReferenceError as exc:
        logger.warning("%s", exc)
        return None
    if still is None:
        return None
    ok, encoded = cv2.imencode(".png", still.image)
    return encoded.tobytes() if ok else None


@router.get("/cameras/{branch}/{camera}/reference.png")
def reference_frame(principal: PageUser, settings: SettingsDep, branch: Id, camera: Id) -> Response:
    """The camera's clean reference still (``branchwatch reference set``)."""
    _admin(principal)
    png = _reference_png(settings, branch, camera)
    if png is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            "该摄像机没有基准画面：请先运行 branchwatch reference set",
        )
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/cameras/{branch}/{camera}/zones")
def save_zones(
    principal: ChangingUser, settings: SettingsDep, branch: Id, camera: Id, body: DrawnZones
) -> dict[str, Any]:
    """Check the drawn zones and write them to the site configuration."""
    _admin(principal)
    path, site = _site(settings)
    drawn = _drawn(body, _camera(site, branch, camera))
    try:
        count = set_zones(path, branch, camera, drawn.zones)
    except CalibrationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    logger.info("%s saved %d zones of %s/%s", principal.username, count, branch, camera)
    return {"saved": count, "message": f"已保存 {count} 个区域；下次扫描时该摄像机的录像将重新分析"}


@router.post("/cameras/{branch}/{camera}/zones/preview")
def preview(
    principal: ChangingUser,
    settings: SettingsDep,
    db: SessionDep,
    branch: Id,
    camera: Id,
    body: DrawnZones,
) -> dict[str, Any]:
    """What the drawn zones would change on the camera's last night with footage."""
    _admin(principal)
    _, site = _site(settings)
    drawn = _drawn(body, _camera(site, branch, camera))
    conf = site.branch(branch)
    videos = [
        v
        for v in db.scalars(
            select(Video).where(Video.branch_id == branch, Video.camera_id == camera)
        )
        if v.timeline_path and v.start_ts and Path(v.timeline_path).exists()
    ]
    if not videos:
        return {"night": None, "message": "该摄像机尚无已分析的录像，无法预览"}
    night: date = max(v.start_ts.astimezone(conf.tz).date() for v in videos if v.start_ts)
    parts = [
        ObservationTimeline.load(Path(v.timeline_path))
        for v in videos
        if v.start_ts and v.timeline_path and v.start_ts.astimezone(conf.tz).date() == night
    ]
    try:
        timeline = ObservationTimeline.concat(parts)
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"当晚的录像区域不一致：{exc}") from exc
    ctx = RuleContext(
        branch=branch,
        camera=camera,
        tz=conf.tz,
        hours=conf.hours,
        interval_s=site.sampling.interval_s,
    )
    result = preview_zones(timeline, drawn, ctx, validate_rule_settings(site.rules))
    return {"night": night.isoformat(), **_preview_json(result, conf.tz)}


def _preview_json(result: ZonePreview, tz: Any) -> dict[str, Any]:
    def event(e: Any) -> dict[str, str]:
        return {
            "item": e.item,
            "name": item_name(e.item),
            "start": e.start.astimezone(tz).strftime("%H:%M:%S"),
            "end": e.end.astimezone(tz).strftime("%H:%M:%S"),
            "zone": e.zone or "",
        }

    return {
        "total_samples": result.total_samples,
        "samples": result.samples,
        "current_samples": result.current_samples,
        "added": [event(e) for e in result.added],
        "removed": [event(e) for e in result.removed],
    }
