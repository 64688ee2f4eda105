"""The one exception type users see as a clean one-line message."""


class ChromoflowError(Exception):
    """Bad input or an impossible request.

    The message is a single line that names the file (and row) at fault and,
    where possible, what to do about it. The CLI prints it without a
    traceback and exits with status 1.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def at_line(path, line_no: int, problem: str) -> ChromoflowError:
    """An error located at ``path`` line ``line_no`` (1-based)."""
    return ChromoflowError(f"{path} line {line_no}: {problem}")


def option(flag: str) -> str:
    """How to pass a command-line option where the error is read: ``--allow-missing-chroms`` from the
    command line, ``--allow_missing_chroms`` in the pipeline (whose tasks set ``CHROMOFLOW_PIPELINE``)."""
    import os

    if os.environ.get("CHROMOFLOW_PIPELINE"):
        return f"the pipeline parameter --{flag.lstrip('-').replace('-', '_')}"
    return flag
