"""The one reader of delimited text: rows with their line numbers kept, so that errors can point at a row.

Every table chromoflow reads (genes, pCREs, expression, manifests, metrics,
predictions, interaction lists, region edits) goes through :func:`lines`:
UTF-8 (gzipped or not), a byte-order mark dropped, Windows line ends
accepted, blank lines skipped and, where the format has them, comment lines.
:func:`read_table` reads a table with a header line into a frame of text
columns whose ``attrs["lines"]`` holds each row's line number in the file
(:func:`row_line`); :func:`read_rows` reads headerless records such as BED
and BEDPE.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from ._io import open_text
from .errors import ChromoflowError, at_line


def lines(path: str | os.PathLike, comments: tuple[str, ...] = (), sep: str = "\t") -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line not starting with one of ``comments``."""
    with open_text(path) as fh:
        for no, line in enumerate(fh, 1):
            text = line.rstrip("\n\r")
            if not text.strip() or (comments and text.startswith(comments)):
                continue
            yield no, text.split(sep)


def read_table(
    path,
    required: list[str],
    what: str,
    hint: str = "",
    dtype=None,
    allow_empty: bool = False,
    comments: tuple[str, ...] = (),
    skip: int = 0,
):
    """A tab-separated table with a header line, validated: one-line errors for every way it can be broken.

    Raises for a missing/empty/binary file, a missing required column, a
    ragged row (naming the line), or no rows (unless ``allow_empty``).
    Lines starting with one of ``comments`` are skipped, and the first
    ``skip`` lines after them (e.g. GCT's dimensions line). Columns are read
    as text unless ``dtype`` says otherwise; callers parse and check values
    themselves, naming rows with :func:`row_line`.
    """
    import pandas as pd

    records = lines(path, comments)
    head = next(records, None)
    for _ in range(skip):
        head = next(records, None)
    suffix = f" ({hint})" if hint else ""
    if head is None:
        raise ChromoflowError(f"{path}: empty file; expected a {what} with header {' '.join(required)}{suffix}")
    head_no, header = head
    missing = [c for c in required if c not in header]
    if missing:
        raise ChromoflowError(
            f"{path}: missing column(s) {', '.join(missing)}; expected a tab-separated {what} with header {' '.join(required)}{suffix}"
        )
    if len(set(header)) != len(header):
        dup = next(c for c in header if header.count(c) > 1)
        raise ChromoflowError(f"{path} line {head_no}: column {dup!r} appears twice")
    rows, numbers = [], []
    for no, fields in records:
        if len(fields) != len(header):
            raise at_line(path, no, f"{len(fields)} tab-separated fields, the header has {len(header)}")
        rows.append(fields)
        numbers.append(no)
    if not rows and not allow_empty:
        raise ChromoflowError(f"{path}: no rows below the header; the {what} is empty")
    frame = (
        pd.DataFrame(rows, columns=header, dtype=object)
        if rows
        else pd.DataFrame({c: pd.Series(dtype=object) for c in header})
    )
    for col, kind in (dtype or {}).items():
        if col in frame.columns and kind is not str:
            frame[col] = frame[col].astype(kind)
    frame.attrs["lines"] = _LineNumbers(np.asarray(numbers, np.int64))
    return frame


class _LineNumbers:
    """Each row's line in the file, kept in a frame's attrs (compared by identity: pandas compares attrs when it
    combines frames, and an array would compare element by element)."""

    __slots__ = ("values",)

    def __init__(self, values: np.ndarray):
        self.values = values

    def __eq__(self, other) -> bool:
        return self is other

    __hash__ = object.__hash__


def numeric_columns(frame, path, columns, required=(), choices: dict | None = None):
    """Parse ``columns`` of a :func:`read_table` frame as numbers in place: empty cells become NaN, anything else
    that is not a finite number is a one-line error naming the file, line and column. ``required`` columns may not
    be empty; ``choices`` maps a column to its allowed values (checked on the text)."""
    import pandas as pd

    for col, allowed in (choices or {}).items():
        if col in frame.columns:
            bad = ~frame[col].isin(list(allowed))
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise ChromoflowError(
                    f"{path} line {row_line(frame, i)}, column {col!r}: {frame[col].iat[i]!r} is not one of {', '.join(map(str, allowed))}"
                )
    for col in columns:
        if col not in frame.columns:
            continue
        text = frame[col].astype(str).str.strip()
        values = pd.to_numeric(text.where(text != "", None), errors="coerce")
        empty = text.isin(["", "NA", "NaN", "nan"])
        bad = (values.isna() & ~empty) | ~np.isfinite(values.fillna(0).astype(float))
        if col in required:
            bad |= empty
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ChromoflowError(
                f"{path} line {row_line(frame, i)}, column {col!r}: must be a finite number, got {frame[col].iat[i]!r}"
            )
        frame[col] = values.where(~empty, np.nan).astype(float)
    return frame


def row_line(frame, i: int) -> int:
    """The file line of row ``i`` of a frame from :func:`read_table`."""
    numbers = frame.attrs.get("lines")
    return int(numbers.values[i]) if isinstance(numbers, _LineNumbers) and i < len(numbers.values) else i + 2


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
    rows, numbers, head = [], [], None
    for no, f in lines(path, comments=("#", "track", "browser")):
        if not rows and head is None and header in ("auto", "yes"):
            if header == "yes" or (int_cols and not _is_int(f[int_cols[0]] if len(f) > int_cols[0] else "")):
                head = f
                continue
        if len(f) < min_cols:
            raise at_line(path, no, f"expected at least {min_cols} tab-separated {what} columns, got {len(f)}")
        rows.append(f)
        numbers.append(no)
    if not rows:
        raise ChromoflowError(f"{path}: no {what} rows (the file is empty)")
    return head, rows, np.asarray(numbers)


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
            raise at_line(
                path, int(no), f"{name} must be {'an integer' if kind is int else 'a number'}, got {v!r}"
            ) from None
    raise AssertionError("unreachable")
