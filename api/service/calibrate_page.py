"""The page ``branchwatch calibrate`` serves on this machine: a camera's frame with the people
found in it; the user clicks a member of staff, picks the role and the uniform signature is
stored in the configuration (:class:`api.calibration.CalibrationSession`).

The page is for the person at the keyboard: it listens on 127.0.0.1 only, and every request
but the static files carries a random token from the printed address (as Jupyter does), so
another web page open in the same browser cannot write to the configuration.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

import cv2
from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from api.calibration import STAFF_ROLES, CalibrationError, CalibrationSession, StaffRole
from api.labels import ROLE_NAMES
from api.service.templating import STATIC_DIR, make_templates
from vision.roles import NoPersonAtPoint

logger = logging.getLogger(__name__)


class Click(BaseModel):
    """A click on the frame, in the frame's pixels, and the role the user chose."""

    x: float = Field(ge=0)
    y: float = Field(ge=0)
    role: StaffRole


class Saved(BaseModel):
    """What the page shows after a signature was stored."""

    count: int
    message: str


def calibration_app(session: CalibrationSession, token: str) -> FastAPI:
    """The calibration page of one camera frame.

    Args:
        session: The frame, its people and the configuration file.
        token: Secret every page and API request must carry.
    """
    app = FastAPI(title="branchwatch calibrate", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    templates = make_templates()
    h, w = session.image.shape[:2]

    def check(given: str | None) -> None:
        if given is None or not hmac.compare_digest(given, token):
            raise HTTPException(403, "令牌无效：请使用 branchwatch calibrate 打印的地址")

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request, token: Annotated[str | None, Query()] = None) -> Response:
        check(token)
        people = [
            {"n": i + 1, "x1": float(b[0]), "y1": float(b[1]), "x2": float(b[2]), "y2": float(b[3])}
            for i, b in enumerate(session.people.xyxy)
        ]
        return templates.TemplateResponse(
            request,
            "calibrate.html",
            {
                "branch": session.branch,
                "camera": session.camera,
                "width": w,
                "height": h,
                "people": people,
                "roles": [(r, ROLE_NAMES[r]) for r in STAFF_ROLES],
                "token": token,
                "stored": len(session.camera.uniforms),
            },
        )

    @app.get("/frame.jpg")
    def frame(token: Annotated[str | None, Query()] = None) -> Response:
        check(token)
        ok, jpeg = cv2.imencode(".jpg", session.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise HTTPException(500, "无法编码画面")
        return Response(jpeg.tobytes(), media_type="image/jpeg")

    @app.post("/signatures", response_model=Saved)
    def save(
        click: Click, x_token: Annotated[str | None, Header(alias="X-Calibrate-Token")] = None
    ) -> Saved:
        check(x_token)
        try:
            count = session.save(click.x, click.y, click.role)
        except NoPersonAtPoint as exc:
            raise HTTPException(422, "点击位置没有检测到人员，请点击人员框内") from exc
        except CalibrationError as exc:
            logger.error("%s", exc)
            raise HTTPException(500, f"未能保存：{exc}") from exc
        name = ROLE_NAMES[click.role]
        return Saved(
            count=count,
            message=f"已保存{name}制服签名（本摄像头共 {count} 个），可继续点击其他员工",
        )

    return app
