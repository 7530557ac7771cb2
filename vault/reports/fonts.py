"""The TrueType fonts shipped with the package (DejaVu, Bitstream Vera license in fonts/LICENSE).

PDF/A requires every font to be embedded, so the report uses these files and
never a PDF standard font.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
SANS = FONT_DIR / "DejaVuSans.ttf"
SANS_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
MONO = FONT_DIR / "DejaVuSansMono.ttf"


@cache
def covered_code_points(path: Path = SANS) -> frozenset[int]:
    """Return the Unicode code points the font has a glyph for."""
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())
