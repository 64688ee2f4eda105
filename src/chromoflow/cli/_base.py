"""What every chromoflow command shares, whether run as ``chromoflow NAME`` or as ``bin/chromoflow-NAME``.

Every failure ends as one line on stderr and a non-zero exit status, never a
traceback: :class:`~chromoflow.errors.ChromoflowError` (bad input) exits 1,
SIGINT/SIGTERM/SIGHUP exit 128 + the signal number after outputs in progress
are removed, and an unexpected error is reported in one line too (set
``CHROMOFLOW_DEBUG=1`` for its traceback).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import sys

import click

from ..errors import ChromoflowError
from ..log import NOTE


class Interrupted(BaseException):
    """Raised by the SIGTERM/SIGHUP handlers so that cleanup (atomic outputs, folders) runs as for Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def setup_logging(level: int = NOTE) -> None:
    logger = logging.getLogger("chromoflow")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("chromoflow: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = True  # harmless for the CLI (the root logger has no handler); lets callers and tests capture it


def unexpected(exc: BaseException) -> str:
    """One line for an error no check anticipated."""
    from .._io import write_problem

    if isinstance(exc, MemoryError):
        return "out of memory; use a machine with more memory, fewer --jobs, or a smaller --batch-size"
    if isinstance(exc, OSError):
        problem = write_problem(getattr(exc, "filename", None) or "output", exc)
        if problem is not None:
            return str(problem)
        if exc.errno == errno.ENOENT and exc.filename:
            return f"{exc.filename}: no such file"
        if exc.filename:
            return f"{exc.filename}: {exc.strerror or exc}"
    text = " ".join(str(exc).split())[:300]
    return f"unexpected {type(exc).__name__}: {text} (please report this with the command line; CHROMOFLOW_DEBUG=1 shows where it happened)"


class OneLineUsageError(click.ClickException):
    """A usage error (bad option value, missing option) shown as one line, exit status 2 as click's own."""

    exit_code = 2


def _one_line_usage(ctx, exc: click.UsageError):
    name = ctx.command_path if ctx is not None else "chromoflow"
    return OneLineUsageError(f"{' '.join(exc.format_message().split())} (see '{name} --help')")


class SafeCommand(click.Command):
    """A click command whose failures are one line, and which cleans up on SIGTERM/SIGHUP like on Ctrl-C."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _one_line_usage(ctx, exc) from None

    def invoke(self, ctx):
        if not logging.getLogger("chromoflow").handlers:
            setup_logging()
        if not os.environ.get("CHROMOFLOW_DEBUG"):
            # Errors in destructors (h5py objects closing on a full disk) follow the real error:
            # it is reported once, in one line; their tracebacks would only bury it.
            sys.unraisablehook = lambda unraisable: None
        handlers = {}
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                handlers[sig] = signal.signal(sig, _raise_interrupted)
            except (ValueError, OSError):  # not the main thread
                pass
        try:
            return super().invoke(ctx)
        except ChromoflowError as exc:
            _exit_if_native_library_failed(str(exc))
            raise click.ClickException(str(exc)) from None
        except click.UsageError as exc:
            raise _one_line_usage(ctx, exc) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("Error: interrupted; outputs in progress were removed", err=True)
            ctx.exit(130)
        except Interrupted as exc:
            click.echo(
                f"Error: stopped by {signal.Signals(exc.signum).name}; outputs in progress were removed", err=True
            )
            ctx.exit(128 + exc.signum)
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if os.environ.get("CHROMOFLOW_DEBUG"):
                raise
            raise click.ClickException(unexpected(exc)) from None
        finally:
            for sig, old in handlers.items():
                signal.signal(sig, old)


def _exit_if_native_library_failed(message: str) -> None:
    """After a failed HDF5 write, exit now: the library's own teardown at process exit would crash (signal 11)."""
    from .._io import native_write_failed

    if not native_write_failed():
        return
    import atexit

    click.echo(f"Error: {message}", err=True)
    atexit._run_exitfuncs()  # Python's cleanup (temporary folders) still runs; only the C library's is skipped
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


class SafeGroup(click.Group):
    """The ``chromoflow`` group: usage errors (e.g. an unknown subcommand) in one line too."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _one_line_usage(ctx, exc) from None

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise _one_line_usage(ctx, exc) from None


def command(name: str):
    """``@command("genes")``: a chromoflow subcommand (see :class:`SafeCommand`)."""
    return click.command(name, cls=SafeCommand, context_settings={"help_option_names": ["-h", "--help"]})
