"""Running the pipeline from tests: which Nextflow, its environment, the trace, samplesheets.

Two Nextflows take part (``make setup`` installs both from Maven Central):
the pinned one (``nextflow``, 24.10) runs most tests; the newest on Maven
Central (``CHROMOFLOW_NEXTFLOW_STRICT``, 25.04.4) runs the test profile under
the strict syntax parser (``NXF_SYNTAX_PARSER=v2``, Nextflow 26.04's default).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SIM = REPO / "tests" / "data" / "sim"
MARKS = ["H3K4me1", "H3K4me3", "H3K9me3", "H3K27me3", "H3K36me3", "H3K27ac", "H3K9ac"]
VENV_BIN = Path(sys.executable).parent


def required() -> bool:
    return bool(os.environ.get("CHROMOFLOW_REQUIRE_NEXTFLOW"))


def tool(variable: str, what: str) -> str:
    """The path in environment variable ``variable``; a failure under ``make test``, else a skip."""
    path = os.environ.get(variable)
    if path and Path(path).exists():
        return path
    if required():
        pytest.fail(f"{variable} is not set to {what}: run the tests with 'make test'")
    pytest.skip(f"{what} not installed ({variable}; 'make test' installs it)")


def nextflow_bin(strict: bool = False) -> str:
    if strict:
        return tool("CHROMOFLOW_NEXTFLOW_STRICT", "the newest Nextflow (strict syntax)")
    found = shutil.which("nextflow", path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        if required():
            pytest.fail("nextflow not found: run 'make setup' (installs it from Maven Central)")
        pytest.skip("nextflow not installed (make setup installs it)")
    return found


def nextflow_env(strict: bool = False) -> dict:
    """This venv's chromoflow on PATH; the strict parser for the strict Nextflow."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("NXF_ANSI_LOG", "false")
    if strict:
        env["NXF_SYNTAX_PARSER"] = "v2"
    return env


def nextflow(launch: Path, *args, check: bool = True, strict: bool = False) -> subprocess.CompletedProcess:
    """`nextflow run <repo> ARGS` in ``launch``."""
    launch.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [nextflow_bin(strict), "run", str(REPO), *map(str, args)],
        cwd=launch,
        env=nextflow_env(strict),
        capture_output=True,
        text=True,
        timeout=1500,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"nextflow failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return proc


def trace(outdir: Path) -> pd.DataFrame:
    """The newest run's trace, with a `process` column (the process name without its workflow path)."""
    files = sorted((outdir / "pipeline_info").glob("trace_*.txt"))
    t = pd.read_csv(files[-1], sep="\t")
    t["process"] = t["name"].str.split(" ").str[0].str.split(":").str[-1]
    return t


def write_sheet(path: Path, rows) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample", "mark", "track", "contacts", "expression"])
        w.writerows(rows)
    return path


def sim_rows(samples=("cellA", "cellB")) -> list[list[str]]:
    """The bundled simulation's samplesheet rows."""
    return [
        [s, m, str(SIM / f"{s}-{m}.bw"), f"{SIM}/contacts.mcool::resolutions/5000", str(SIM / "expression.tsv")]
        for s in samples
        for m in MARKS
    ]
