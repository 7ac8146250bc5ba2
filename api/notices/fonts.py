"""CJK fonts for reportlab: the Simplified Chinese face of Noto Sans CJK, embedded as TrueType.

Debian's ``fonts-noto-cjk`` ships OpenType collections (``.ttc``) with PostScript (CFF)
outlines, which reportlab cannot embed. For each document the SC face of the collection is
cut down to the characters the document uses (fontTools ``subset``) and its outlines are
converted to quadratic TrueType curves (``cu2qu``); the result is registered with reportlab
under names of the document's own (:class:`CjkFonts`), so the PDF embeds only the glyphs it
shows.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
from functools import lru_cache
from pathlib import Path

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]
from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
from fontTools.ttLib import TTCollection, TTFont, newTable  # type: ignore[import-untyped]
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont

logger = logging.getLogger(__name__)

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
REGULAR_TTC = NOTO_DIR / "NotoSansCJK-Regular.ttc"
BOLD_TTC = NOTO_DIR / "NotoSansCJK-Bold.ttc"
FACE_NAME = "Noto Sans CJK SC"
"""Family name of the Simplified Chinese face inside the collections."""
BASE_CHARS = "".join(chr(c) for c in range(0x20, 0x7F)) + "，。、；：？！“”‘’（）《》〔〕【】—…·％"
"""Characters every subset holds, whatever the document's text."""
MAX_CURVE_ERROR = 1.0
UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "VORG", "vhea", "vmtx", "DSIG")
"""Tables a PDF does not use (reportlab places glyphs itself, horizontally)."""
_serial = itertools.count(1)
"""Largest distance (font units of 1000/em) between a cubic curve and its quadratic copy."""


class FontMissing(FileNotFoundError):
    """The Noto CJK collection is not installed (Debian package ``fonts-noto-cjk``)."""


def face_index(path: Path, family: str = FACE_NAME) -> int:
    """Index of the face whose family name is ``family`` inside a font collection.

    Args:
        path: A ``.ttc`` file.
        family: Family name (name ID 1) to look for.

    Returns:
        The face index (``fontNumber`` of fontTools, ``subfontIndex`` of reportlab).

    Raises:
        FontMissing: The file does not exist or holds no such face.
    """
    if not path.exists():
        raise FontMissing(f"{path} not found; install the Debian package fonts-noto-cjk")
    collection = TTCollection(str(path), lazy=True)
    try:
        for i, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1) == family:
                return i
    finally:
        collection.close()
    raise FontMissing(f"{path} has no face named {family!r}")


def _to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines of ``font`` by TrueType ``glyf`` outlines, in place."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=MAX_CURVE_ERROR, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font["head"].glyphDataFormat = 0
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"


def truetype_subset(path: Path, chars: str) -> bytes:
    """The SC face of a Noto CJK collection, cut to ``chars``, as TrueType font bytes.

    Args:
        path: ``NotoSansCJK-Regular.ttc`` or ``-Bold.ttc``.
        chars: Characters to keep (:data:`BASE_CHARS` are always kept).

    Returns:
        A ``.ttf`` file's bytes.

    Raises:
        FontMissing: The collection is not installed.
    """
    font = TTFont(str(path), fontNumber=face_index(path), lazy=True)
    for tag in UNUSED_TABLES:
        if tag in font:
            del font[tag]  # before anything decompiles them: layout tables cost seconds
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(chars + BASE_CHARS))))
    subsetter.subset(font)
    _to_truetype(font)
    # reportlab keeps faces by PostScript name: each subset needs a name of its own.
    tag = hashlib.sha1(chars.encode()).hexdigest()[:8]
    for record in font["name"].names:
        if record.nameID == 6:
            record.string = f"{record.toUnicode()}-{tag}"
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


@lru_cache(maxsize=16)
def _subset_bytes(path: Path, chars: str) -> bytes:
    return truetype_subset(path, chars)


class CjkFonts:
    """Regular and bold CJK font names for one document, registered once its text is known.

    Styles and table commands take the names at once; every string drawn goes through
    :meth:`text`; :meth:`register` then embeds exactly those characters. Each instance has
    names of its own, so documents rendered one after another never share a subset.

    Example:
        >>> fonts = CjkFonts()
        >>> para = Paragraph(fonts.text("整改通知书"), ParagraphStyle("t", fontName=fonts.bold))
        >>> fonts.register()
        >>> doc.build([para])
    """

    def __init__(self) -> None:
        n = next(_serial)
        self.regular = f"bw-cjk-{n}"
        self.bold = f"bw-cjk-bold-{n}"
        self._chars: set[str] = set()
        for name in (self.regular, self.bold):
            # Paragraphs look names up in this map when they are made, before registration.
            for bold, italic in itertools.product((0, 1), repeat=2):
                addMapping(name, bold, italic, name)

    def text(self, value: str) -> str:
        """Note the characters of a string that will be drawn; returns it unchanged."""
        self._chars.update(value)
        return value

    def register(self) -> None:
        """Register both fonts with reportlab, cut to the noted characters.

        The bold face falls back to the regular one when ``NotoSansCJK-Bold.ttc`` is missing.

        Raises:
            FontMissing: ``NotoSansCJK-Regular.ttc`` is not installed.
        """
        chars = "".join(sorted(self._chars - {"\n", "\r", "\t"}))
        bold_path = BOLD_TTC if BOLD_TTC.exists() else REGULAR_TTC
        for name, path in ((self.regular, REGULAR_TTC), (self.bold, bold_path)):
            data = _subset_bytes(path, chars)
            pdfmetrics.registerFont(ReportlabTTFont(name, io.BytesIO(data)))
        logger.debug("registered %s/%s with %d characters", self.regular, self.bold, len(chars))
