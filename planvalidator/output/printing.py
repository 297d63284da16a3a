"""How every sheet we write prints: the consolidated plan, the templates and the Validation sheet.

Landscape Letter, one page wide and as many pages tall as the rows need; the rows above the
frozen pane (title, header) repeated on every page; the plan's name in the page header, the
sheet's name and "Page n of N" in the footer. A sheet with no frozen rows repeats nothing.
"""

from __future__ import annotations

from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.page import PageMargins

# inches: narrow side margins leave more width for the wide tables
MARGINS = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3)


def set_up_printing(ws, plan_name: str) -> None:
    setup = ws.page_setup
    setup.orientation = "landscape"
    setup.paperSize = ws.PAPERSIZE_LETTER
    setup.fitToWidth, setup.fitToHeight = 1, 0   # 0: as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(**{k: getattr(MARGINS, k) for k in
                                     ("left", "right", "top", "bottom", "header", "footer")})
    if ws.freeze_panes:
        first_scrolling_row = coordinate_to_tuple(ws.freeze_panes)[0]
        if first_scrolling_row > 1:
            ws.print_title_rows = f"1:{first_scrolling_row - 1}"
    ws.oddHeader.center.text = plan_name.replace("&", "&&")   # "&" starts a code in headers
    ws.oddFooter.left.text = "&A"                             # the sheet's name
    ws.oddFooter.right.text = "Page &P of &N"
