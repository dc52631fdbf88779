"""Writes one table to an XLSX file with XlsxWriter: bold frozen header, filter, widths, real dates."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions

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
        try:
            workbook.close()
        except xlsxwriter.exceptions.FileCreateError as exc:
            # An OSError, as the CSV and JSON lines files raise: callers handle one kind of error.
            raise OSError(str(exc)) from None
    return n


# -- in a child process ----------------------------------------------------------------------------
# XlsxWriter costs ~10 µs a cell: for a 50,000-link export it is the largest single cost, so it runs
# in a child process (the machine has two cores) and is fed rows while the rest of the export goes on.

_batches: Any = None  # the child's end of the queue, set by _attach()


def _attach(queue: Any) -> None:
    global _batches
    _batches = queue


def _queued_rows() -> Iterator[Sequence[Any]]:
    while (batch := _batches.get()) is not None:
        yield from batch


def _write_queued(path: Path, header: list[str], widths: list[float], sheet: str, created: datetime) -> int:
    return write_xlsx(path, header, widths, _queued_rows(), sheet=sheet, created=created)


class BackgroundXlsx:
    """write_xlsx() in a child process, fed batches of rows with add(); close() waits for the file."""

    def __init__(self, path: Path, header: Sequence[str], widths: Sequence[float], *, sheet: str,
                 created: datetime) -> None:
        # fork: the child needs nothing re-imported; the queue reaches it by inheritance.
        context = multiprocessing.get_context("fork")
        self._queue = context.Queue()
        self._pool = ProcessPoolExecutor(1, mp_context=context, initializer=_attach, initargs=(self._queue,))
        self._future = self._pool.submit(_write_queued, path, list(header), list(widths), sheet, created)
        self._open = True

    def add(self, rows: list[Sequence[Any]]) -> None:
        if self._future.done():
            self._future.result()  # the child failed: raise its error now
        self._queue.put(rows)

    def close(self) -> int:
        """Waits for the child; returns the row count or raises the child's error."""
        self._end()
        try:
            return self._future.result()
        finally:
            self._pool.shutdown()

    def _end(self) -> None:
        if self._open:
            self._open = False
            self._queue.put(None)
            self._queue.close()

    def __enter__(self) -> BackgroundXlsx:
        return self

    def __exit__(self, *exc: object) -> None:
        # On an error in the parent the child still gets the end mark, so it finishes and exits.
        self._end()
        self._pool.shutdown()
