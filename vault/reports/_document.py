"""An FPDF document with the report's fonts, page header and building blocks."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF
from fpdf.enums import TableHeadingsDisplay, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from vault.reports import _layout, fonts

SANS = "DejaVuSans"
MONO = "DejaVuSansMono"
BODY_SIZE = 9.0
SMALL_SIZE = 7.5

_MONO_FACE = FontFace(family=MONO, size_pt=SMALL_SIZE)
_LABEL_FACE = FontFace(family=SANS, emphasis="B", size_pt=BODY_SIZE)
_HEADING_FACE = FontFace(family=SANS, emphasis="B", size_pt=SMALL_SIZE, fill_color=(225, 229, 235))
_ALERT_RED = (176, 0, 32)


class Cell:
    """One table cell: text, and whether it contains a machine value (hash, key, id) set in monospace."""

    __slots__ = ("text", "mono")

    def __init__(self, text: str, mono: bool = False) -> None:
        self.text = text
        self.mono = mono


class ReportPDF(FPDF):
    """A4 PDF/A-3b document with a running header and "page N of M" footer."""

    def __init__(self, running_title: str, generated_at: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4", enforce_compliance="PDF/A-3B")
        self.running_title = running_title
        self.generated_at = generated_at
        self.add_font(SANS, "", fonts.SANS)
        self.add_font(SANS, "B", fonts.SANS_BOLD)
        self.add_font(MONO, "", fonts.MONO)
        self.set_margins(_layout.MARGIN, _layout.TOP_MARGIN, _layout.MARGIN)
        self.set_auto_page_break(True, margin=_layout.BOTTOM_MARGIN)
        self.alias_nb_pages()
        self.set_font(SANS, size=BODY_SIZE)

    def header(self) -> None:
        self.set_font(SANS, size=SMALL_SIZE)
        self.set_text_color(90, 90, 90)
        self.set_xy(_layout.MARGIN, 10)
        self.cell(_layout.CONTENT_WIDTH, 5, self.running_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.line(_layout.MARGIN, 15.5, _layout.PAGE_WIDTH - _layout.MARGIN, 15.5)
        self.set_text_color(0, 0, 0)
        self.set_xy(_layout.MARGIN, _layout.TOP_MARGIN)
        self.set_font(SANS, size=BODY_SIZE)

    def footer(self) -> None:
        self.set_font(SANS, size=SMALL_SIZE)
        self.set_text_color(90, 90, 90)
        self.set_xy(_layout.MARGIN, _layout.PAGE_HEIGHT - 12)
        self.cell(_layout.CONTENT_WIDTH / 2, 5, f"Generated {self.generated_at}")
        self.cell(_layout.CONTENT_WIDTH / 2, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)

    def title_block(self, title: str, lines: Sequence[str]) -> None:
        self.set_font(SANS, "B", 16)
        self.multi_cell(_layout.CONTENT_WIDTH, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(SANS, size=10)
        for line in lines:
            self.multi_cell(_layout.CONTENT_WIDTH, 5.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)
        self.set_font(SANS, size=BODY_SIZE)

    def section(self, title: str) -> None:
        if self.will_page_break(20):
            self.add_page()
        self.ln(3)
        self.set_font(SANS, "B", 12)
        self.cell(_layout.CONTENT_WIDTH, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(SANS, size=BODY_SIZE)

    def subsection(self, title: str) -> None:
        if self.will_page_break(15):
            self.add_page()
        self.ln(1)
        self.set_font(SANS, "B", 10)
        self.multi_cell(_layout.CONTENT_WIDTH, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(SANS, size=BODY_SIZE)

    def paragraph(self, text: str, mono: bool = False) -> None:
        if mono:
            self.set_font(MONO, size=SMALL_SIZE)
        self.multi_cell(
            _layout.CONTENT_WIDTH, 4.5 if not mono else 3.6, text,
            new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=WrapMode.CHAR if mono else WrapMode.WORD,
        )
        self.set_font(SANS, size=BODY_SIZE)
        self.ln(1)

    def alert(self, text: str) -> None:
        """Print a framed red notice, for facts a reader must not miss (an empty file, warnings)."""
        self.set_draw_color(*_ALERT_RED)
        self.set_text_color(*_ALERT_RED)
        self.set_line_width(0.6)
        self.set_font(SANS, "B", 11)
        self.multi_cell(
            _layout.CONTENT_WIDTH, 6.5, text, border=1, padding=2, align="L",
            new_x=XPos.LMARGIN, new_y=YPos.NEXT,
        )
        self.set_line_width(0.2)
        self.set_draw_color(0, 0, 0)
        self.set_text_color(0, 0, 0)
        self.set_font(SANS, size=BODY_SIZE)
        self.ln(2)

    def key_values(self, rows: Sequence[tuple[str, Cell]]) -> None:
        """Print a two-column table of labels and values, wrapping long values inside their cell."""
        with self.table(
            col_widths=(45, _layout.CONTENT_WIDTH - 45),
            width=_layout.CONTENT_WIDTH,
            first_row_as_headings=False,
            text_align="LEFT",
            line_height=4.5,
            padding=1,
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(label, style=_LABEL_FACE)
                row.cell(value.text, style=_MONO_FACE if value.mono else None)
        self.ln(2)

    def grid(self, headings: Sequence[str], widths: Sequence[float], rows: Sequence[Sequence[Cell]]) -> None:
        """Print a table whose heading row repeats on every page it spans."""
        with self.table(
            col_widths=tuple(widths),
            width=_layout.CONTENT_WIDTH,
            headings_style=_HEADING_FACE,
            repeat_headings=TableHeadingsDisplay.ON_TOP_OF_EVERY_PAGE,
            text_align="LEFT",
            line_height=3.6,
            padding=1,
        ) as table:
            heading = table.row()
            for text in headings:
                heading.cell(text)
            self.set_font(SANS, size=SMALL_SIZE)
            for cells in rows:
                row = table.row()
                for cell in cells:
                    row.cell(cell.text, style=_MONO_FACE if cell.mono else None)
        self.set_font(SANS, size=BODY_SIZE)
        self.ln(2)
