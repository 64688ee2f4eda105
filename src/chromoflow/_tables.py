"""Reading delimited text with line numbers kept, so errors can point at a row."""

from __future__ import annotations

import os

import numpy as np

from ._io import open_text
from .errors import ChromoflowError, at_line


def read_rows(
    path: str | os.PathLike,
    min_cols: int,
    what: str,
    header: str = "auto",
    int_cols: tuple[int, ...] = (),
):
    """Split a tab-separated file into rows of at least ``min_cols`` fields.

    Comment (``#``), ``track``/``browser`` and blank lines are skipped.
    ``header='auto'`` treats the first data line as a header when its first
    integer column does not parse. Returns ``(header_fields | None, rows,
    line_numbers)``; raises a located error for a short row.
    """
    rows, lines, head = [], [], None
    with open_text(path) as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            f = line.rstrip("\n\r").split("\t")
            if not rows and head is None and header in ("auto", "yes"):
                if header == "yes" or (int_cols and not _is_int(f[int_cols[0]] if len(f) > int_cols[0] else "")):
                    head = f
                    continue
            if len(f) < min_cols:
                raise at_line(path, no, f"expected at least {min_cols} tab-separated {what} columns, got {len(f)}")
            rows.append(f)
            lines.append(no)
    if not rows:
        raise ChromoflowError(f"{path}: no {what} rows (the file is empty)")
    return head, rows, np.asarray(lines)


def _is_int(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def column(rows, lines, idx: int, path, name: str, kind=int) -> np.ndarray:
    """Column ``idx`` of ``rows`` parsed as ``kind`` (int/float), with a located error."""
    values = [r[idx] for r in rows]
    try:
        return np.asarray(values, dtype=np.int64 if kind is int else np.float64)
    except ValueError:
        pass
    for v, no in zip(values, lines):
        try:
            kind(v)
        except ValueError:
            raise at_line(path, int(no), f"{name} must be {'an integer' if kind is int else 'a number'}, got {v!r}") from None
    raise AssertionError("unreachable")
