"""CJK fonts for reportlab: the Simplified Chinese face of Noto Sans CJK, embedded as TrueType.

The font (:func:`vision.fonts.locate_font`: Debian's ``fonts-noto-cjk`` or the
``noto-cjk-sans-otc`` wheel) is an OpenType collection (``.ttc``) with PostScript (CFF)
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

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]
from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont, newTable  # type: ignore[import-untyped]
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont

from vision.fonts import BOLD, REGULAR, ResolvedFont, locate_font

logger = logging.getLogger(__name__)

BASE_CHARS = "".join(chr(c) for c in range(0x20, 0x7F)) + "，。、；：？！“”‘’（）《》〔〕【】—…·％"
"""Characters every subset holds, whatever the document's text."""
MAX_CURVE_ERROR = 1.0
UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "VORG", "vhea", "vmtx", "DSIG")
"""Tables a PDF does not use (reportlab places glyphs itself, horizontally)."""
_serial = itertools.count(1)
"""Largest distance (font units of 1000/em) between a cubic curve and its quadratic copy."""


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


def truetype_subset(face: ResolvedFont, chars: str) -> bytes:
    """The SC face of a Noto CJK collection, cut to ``chars``, as TrueType font bytes.

    Args:
        face: The located collection and the index of its SC face.
        chars: Characters to keep (:data:`BASE_CHARS` are always kept).

    Returns:
        A ``.ttf`` file's bytes.
    """
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
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
def _subset_bytes(face: ResolvedFont, chars: str) -> bytes:
    return truetype_subset(face, chars)


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

        The bold face falls back to the regular one where the bold collection is not installed
        (``models/fonts.yaml``).

        Raises:
            FontMissing: No verified Noto Sans CJK file is installed.
        """
        chars = "".join(sorted(self._chars - {"\n", "\r", "\t"}))
        for name, face in ((self.regular, locate_font(REGULAR)), (self.bold, locate_font(BOLD))):
            data = _subset_bytes(face, chars)
            pdfmetrics.registerFont(ReportlabTTFont(name, io.BytesIO(data)))
        logger.debug("registered %s/%s with %d characters", self.regular, self.bold, len(chars))
