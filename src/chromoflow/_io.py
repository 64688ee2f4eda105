"""Small file helpers shared by every stage: atomic outputs, output folders, text input.

Outputs are written to a temporary name beside their final path and renamed
only when complete (and, where a writer can fail silently, verified), so a
reader sees either the previous file or the whole new one: never a partial
file, whatever stops the run (an error, Ctrl-C, SIGTERM, a full disk).
A command with several outputs writes them inside :func:`all_or_nothing`:
they get their final names together when every one is complete, or none
does.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import gzip
import io
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .errors import ChromoflowError


class _Outputs:
    """The outputs of one :func:`all_or_nothing` block: written temporaries and the folders it created."""

    def __init__(self):
        self.files: list[tuple[Path, Path]] = []  # (temporary, final)
        self.folders: list[Path] = []  # created here, deepest first within each call

    def discard(self) -> None:
        for tmp, _ in self.files:
            with contextlib.suppress(OSError):
                tmp.unlink()
        for folder in sorted(set(self.folders), key=lambda f: len(f.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty

    def commit(self) -> None:
        for k, (tmp, final) in enumerate(self.files):
            try:
                os.replace(tmp, final)
            except OSError as exc:
                for rest, _ in self.files[k:]:
                    with contextlib.suppress(OSError):
                        rest.unlink()
                raise write_problem(final, exc) or ChromoflowError(
                    f"{final}: could not write it ({exc.strerror})"
                ) from None


_OUTPUTS: contextvars.ContextVar[_Outputs | None] = contextvars.ContextVar("chromoflow_outputs", default=None)


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Outputs written inside the block (:func:`atomic_output`, :func:`output_folder`) appear together at the end, or none.

    A failure anywhere in the block (an error, Ctrl-C, SIGTERM, a full disk)
    removes every temporary file and every folder the block created, so a
    command either leaves all of its outputs or none of them. Nested blocks
    join the outermost one.
    """
    if _OUTPUTS.get() is not None:
        yield
        return
    outputs = _Outputs()
    token = _OUTPUTS.set(outputs)
    try:
        yield
    except BaseException:
        _OUTPUTS.reset(token)
        outputs.discard()
        raise
    _OUTPUTS.reset(token)
    outputs.commit()


def check_destinations(files=(), folders=()) -> None:
    """Every output destination usable, checked before any work: one line for the first that is not.

    ``files``: output file paths (their folder must exist and be writable);
    ``folders``: output folders (existing and writable, or creatable). None
    entries are skipped.
    """
    for path in files:
        if path is None:
            continue
        path = Path(path)
        parent = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            raise ChromoflowError(f"{path}: is a folder; give a file name")
        if not parent.is_dir():
            raise ChromoflowError(f"{path}: output folder {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ChromoflowError(
                f"{path}: cannot write into {parent} (read-only or permission denied); choose an output folder you can write to"
            )
    for path in folders:
        if path is None:
            continue
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ChromoflowError(f"{path}: exists and is not a folder")
        existing = path
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            raise ChromoflowError(f"{path}: cannot create the folder: {existing} is not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ChromoflowError(
                f"{path}: cannot write into {existing} (read-only or permission denied); choose an output folder you can write to"
            )


_NATIVE_WRITE_FAILED = False


@contextlib.contextmanager
def native_writes() -> Iterator[None]:
    """Mark a block of writes through a C library that cannot recover from a failed write (HDF5: on a full disk it
    crashes the process when it shuts down). If the block fails, the command exits without that library's
    teardown (:func:`native_write_failed`), after its one-line message and Python's own cleanup."""
    global _NATIVE_WRITE_FAILED
    try:
        yield
    except (OSError, RuntimeError):  # what h5py raises for a failed write (bad input is a ChromoflowError)
        _NATIVE_WRITE_FAILED = True
        raise


def native_write_failed() -> bool:
    return _NATIVE_WRITE_FAILED


def require_space(path, nbytes: int, what: str = "it") -> None:
    """Refuse up front when the file system of ``path`` has less than ``nbytes`` (plus a margin) free."""
    folder = Path(path).parent if str(Path(path).parent) else Path(".")
    while not folder.exists():
        folder = folder.parent
    try:
        st = os.statvfs(folder)
    except OSError:
        return
    free = st.f_bavail * st.f_frsize
    need = int(nbytes * 1.05) + (1 << 20)
    if free < need:
        raise ChromoflowError(
            f"{path}: {what} needs about {need / 2**20:.1f} MB, but only {free / 2**20:.1f} MB are free on that disk; free some space or choose another output folder"
        )


# Errors that mean "the output cannot be written here", as opposed to bad input.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def write_problem(path, exc: BaseException) -> ChromoflowError | None:
    """A one-line error for an OS error met while writing ``path``, or None if it is not a write error."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code in _WRITE_ERRNOS or "No space left" in text or "Disk quota" in text or "errno = 28" in text:
        return ChromoflowError(
            f"{path}: could not write it: {os.strerror(code) if code in _WRITE_ERRNOS else 'no space left on device'}; free some space or choose another output folder"
        )
    if code in (errno.EACCES, errno.EPERM):
        return ChromoflowError(
            f"{path}: could not write it: permission denied; choose an output folder you can write to"
        )
    return None


def _temp_beside(path: Path) -> Path:
    """Create an empty file beside ``path`` with the usual permissions (0666 minus the umask)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise write_problem(path, exc) or ChromoflowError(
                f"{path}: could not create a file in {path.parent} ({exc.strerror})"
            ) from None
        os.close(fd)
        return tmp
    raise ChromoflowError(f"{path}: could not create a temporary file beside it")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, verify: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    ``verify(tmp)`` runs before the rename and raises if what was written is
    incomplete. Whatever happens inside the block (an error, Ctrl-C,
    SIGTERM, a full disk), no partial file is left at ``path`` and the
    temporary file is removed.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ChromoflowError(f"{path}: output folder {parent} does not exist")
    if path.is_dir():
        raise ChromoflowError(f"{path}: is a folder; give a file name")
    tmp = _temp_beside(path)
    try:
        yield tmp
        if verify is not None:
            verify(tmp)
        outputs = _OUTPUTS.get()
        if outputs is not None:
            outputs.files.append((tmp, path))  # renamed with the block's other outputs
        else:
            os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # h5py and torch report a full disk as RuntimeError
        with contextlib.suppress(OSError):
            tmp.unlink()
        problem = write_problem(path, exc)
        if problem is not None:
            raise problem from None
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def output_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Create ``path`` (and parents) for a command's outputs; remove what was created if the command fails.

    A refused or interrupted run leaves no empty output folder behind; a
    folder that already existed, or one that received files, is kept.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ChromoflowError(f"{path}: exists and is not a folder")
    created = []
    p = path
    while not p.exists():
        created.append(p)
        p = p.parent
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_problem(path, exc) or ChromoflowError(
            f"{path}: cannot create the output folder ({exc.strerror})"
        ) from None
    outputs = _OUTPUTS.get()
    if outputs is not None:
        outputs.folders.extend(created)  # removed with the block's temporaries if it fails
    try:
        yield path
    except BaseException:
        for folder in created:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty
        raise


def open_text(path: str | os.PathLike) -> IO[str]:
    """Open a UTF-8 text file for reading, transparently gunzipping ``.gz`` files; a leading byte-order mark
    (as Excel and some Windows tools write it) is dropped."""
    path = Path(path)
    if not path.exists():
        raise ChromoflowError(f"{path}: no such file")
    if not path.is_file():
        raise ChromoflowError(f"{path}: not a regular file")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(2)
    except OSError as exc:
        raise ChromoflowError(f"{path}: cannot read it ({exc.strerror})") from None
    if magic == b"\x1f\x8b":
        return _CheckedText(gzip.open(path, "rt", encoding="utf-8-sig"), path)
    return _CheckedText(open(path, encoding="utf-8-sig"), path)


class _CheckedText(io.TextIOBase):
    """A text stream whose decoding and gzip errors become one-line :class:`ChromoflowError` s."""

    def __init__(self, inner, path):
        self._inner, self._path = inner, path

    def _wrap(self, fn, *args):
        try:
            return fn(*args)
        except UnicodeDecodeError as exc:
            raise ChromoflowError(
                f"{self._path}: not UTF-8 text (byte {exc.start} of a block: {exc.reason}); is it a binary or differently encoded file?"
            ) from None
        except (EOFError, gzip.BadGzipFile, OSError) as exc:
            raise ChromoflowError(f"{self._path}: damaged or truncated file ({type(exc).__name__}: {exc})") from None

    def read(self, *args):
        return self._wrap(self._inner.read, *args)

    def readline(self, *args):
        return self._wrap(self._inner.readline, *args)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self):
        return True

    def close(self):
        self._inner.close()
        super().close()


def write_tsv(frame, path: str | os.PathLike, float_format: str | None = None, header: bool = True) -> None:
    """Write a pandas frame as TSV atomically."""
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format=float_format, header=header)


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write a text file atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(text)
