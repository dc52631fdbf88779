"""Writes one table to an XLSX file with XlsxWriter: bold frozen header, filter, widths, real dates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
OPTIONS = {
    # Rows go straight to a temporary file: 50,000 rows never sit in memory as cell objects.
    "constant_memory": True,
    # Crawled text is data, never a formula, hyperlink or number, whatever it looks like.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def write_xlsx(
    path: Path,
    header: Sequence[str],
    widths: Sequence[float],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str,
    created: datetime,
) -> int:
    """Writes `rows` under `header` and returns the row count.

    Cells are None (left empty), str (written with write_string, so never a formula or URL; the
    caller neutralises formula triggers), int/float (numbers) or naive datetime (a date cell). The
    file depends only on its arguments: `created` fixes the document timestamp and XlsxWriter fixes
    the zip entry times, so the same input gives a byte-identical file.
    """
    workbook = xlsxwriter.Workbook(str(path), OPTIONS)
    try:
        workbook.set_properties({"created": created})
        bold = workbook.add_format({"bold": True})
        date = workbook.add_format({"num_format": DATE_FORMAT})
        ws = workbook.add_worksheet(sheet)
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 0)
        for col, title in enumerate(header):
            ws.write_string(0, col, title, bold)
        write_string, write_number, write_datetime = ws.write_string, ws.write_number, ws.write_datetime
        n = 0
        for n, row in enumerate(rows, 1):
            for col, value in enumerate(row):
                if value is None:
                    continue
                cls = value.__class__
                if cls is str:
                    write_string(n, col, value)
                elif cls is datetime:
                    write_datetime(n, col, value, date)
                elif cls is int or cls is float:
                    write_number(n, col, value)
                else:
                    raise TypeError(f"unsupported cell type {cls.__name__} in column {col}")
        ws.autofilter(0, 0, n, len(header) - 1)
    finally:
        workbook.close()
    return n
