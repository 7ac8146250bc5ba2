"""The notice as HTML (Jinja2): a standalone file, or the UI's preview page.

Stills are embedded as downscaled JPEG data URIs, so the file needs nothing beside it. The
standalone file carries its stylesheet inline; the UI page links it (the service's content
security policy forbids inline styles) and adds the 生成 button and the stored versions.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.notices import sections
from api.notices.model import PREVIEW_BANNER, NoticeContent
from api.outputs import complete_file

logger = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates"
CSS_PATH = TEMPLATE_DIR / "notice.css"
PREVIEW_WIDTH = 1280
"""Width in pixels of the stills embedded in HTML."""


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A generated version shown next to the preview."""

    id: int
    version: int
    preview: bool
    formats: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PageControls:
    """What the UI page adds around the notice."""

    generate_url: str
    preview_url: str
    final_url: str
    csrf_token: str
    can_generate: bool
    preview: bool
    versions: tuple[StoredVersion, ...] = field(default_factory=tuple)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def data_uri(path: Path, width: int = PREVIEW_WIDTH) -> str:
    """A still as a ``data:image/jpeg`` URI, downscaled to ``width`` pixels at most.

    Raises:
        ValueError: The file is not a readable image.
    """
    image = cv2.imread(str(path))
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    h, w = image.shape[:2]
    if w > width:
        image = cv2.resize(image, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ValueError(f"{path}: cannot encode as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(np.asarray(buf).tobytes()).decode()


def render_html(content: NoticeContent, ui: PageControls | None = None, css_href: str = "") -> str:
    """The notice as an HTML document.

    Args:
        content: The notice.
        ui: Controls of the UI page (none for a standalone file).
        css_href: Link the stylesheet from here instead of inlining it.

    Returns:
        The HTML text.
    """
    signs, seal, day = sections.signoff(content)
    stills = [
        (sections.still_caption(n, line), data_uri(line.still))
        for n, line in enumerate(content.stills, start=1)
        if line.still is not None
    ]
    return (
        _environment()
        .get_template("notice.html")
        .render(
            c=content,
            ui=ui,
            css_href=css_href,
            css="" if css_href else CSS_PATH.read_text(encoding="utf-8"),
            banner=PREVIEW_BANNER,
            number=sections.header_lines(content)[1],
            headings=sections.HEADINGS,
            line_headers=sections.LINE_HEADERS,
            line_rows=sections.line_rows(content),
            item_headers=sections.ITEM_HEADERS,
            item_rows=sections.item_rows(content),
            total_rows=sections.total_rows(content),
            requirements=sections.requirements(content),
            stills=stills,
            stills_note=sections.stills_note(content),
            history_heading=sections.HISTORY_HEADING,
            signs=signs,
            seal=seal,
            day=day,
            receipt=sections.RECEIPT,
            footer=sections.footer(content),
        )
    )


def write_html(content: NoticeContent, path: Path) -> Path:
    """Write the notice as a standalone HTML file.

    Example:
        >>> write_html(build_notice(session, "b001", "2026-11"), Path("out/notice.html"))
    """
    with complete_file(path) as tmp:
        tmp.write_text(render_html(content), encoding="utf-8")
    logger.debug("wrote %s", path)
    return path
