"""Page geometry of the report: A4 portrait, in millimetres."""

from __future__ import annotations

PAGE_WIDTH = 210.0
PAGE_HEIGHT = 297.0
MARGIN = 15.0
TOP_MARGIN = 22.0
BOTTOM_MARGIN = 18.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
