"""Shared start of the pipeline's bin/ scripts: run one chromoflow click command, or explain what is missing.

Nextflow puts a pipeline's bin/ on every task's PATH (cloud executors too).
Each script is the same click command as ``chromoflow NAME`` (one
implementation, two entry points); this file only turns "the package is not
installed here" into one line that says which container to use.
"""

import sys


def run(name: str) -> None:
    prog = f"chromoflow-{name}"
    try:
        from chromoflow import __version__
        from chromoflow.cli import subcommand
    except ImportError as exc:
        sys.stderr.write(
            f"{prog}: the chromoflow Python package is not installed in this environment ({exc}); "
            "run the pipeline with -profile docker, singularity or apptainer (image chromoflow:0.1.0, built from containers/), "
            "or 'pip install' chromoflow into the Python that runs this task\n"
        )
        sys.exit(127)
    if sys.argv[1:] == ["--version"]:
        print(f"{prog} {__version__}")
        return
    subcommand(name)(prog_name=prog)
