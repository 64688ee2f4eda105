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


def nextflow(
    launch: Path, *args, check: bool = True, strict: bool = False, env: dict | None = None
) -> subprocess.CompletedProcess:
    """`nextflow run <repo> ARGS` in ``launch`` (``env``: variables added to nextflow_env's)."""
    launch.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [nextflow_bin(strict), "run", str(REPO), *map(str, args)],
        cwd=launch,
        env=nextflow_env(strict) | (env or {}),
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


def task_dirs(launch: Path, outdir: Path) -> list[tuple[str, Path]]:
    """(task name, its work folder) of each task the newest run ran (not the cached ones), attempts included."""
    t = trace(outdir)
    dirs = []
    for name, h, status in zip(t.name, t.hash, t.status):
        if status == "CACHED":
            continue
        found = list((launch / "work").glob(f"{h}*"))
        assert len(found) == 1, (name, h, found)
        dirs.append((name, found[0]))
    return dirs


# What may differ between two runs of the same inputs and seed: measured times and speeds, the run's
# date and the parameters that name where it ran. Everything else of --outdir must be equal.
TIMING_KEYS = {"samples_per_s", "train_seconds", "compile_seconds", "seconds", "train_genes_per_s"}
TIMED_TABLES = ("summary/metrics.tsv", "history.tsv")
REPORT_PLACE_PARAMETERS = ("container", "outdir", "gpu_queue", "slurm_queue")


def _without_timing(value):
    import torch

    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, (list, tuple)):
        return [_without_timing(v) for v in value]
    if isinstance(value, torch.Tensor):
        return (
            str(value.dtype),
            tuple(value.shape),
            value.cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes(),
        )
    return value


def _same_file(a: Path, b: Path, rel: str) -> bool:
    import json
    import re

    import torch

    if a.read_bytes() == b.read_bytes():
        return True
    if rel.endswith(".pt"):
        load = lambda p: _without_timing(torch.load(p, weights_only=True))  # noqa: E731
        return load(a) == load(b)
    if rel.endswith(".json"):
        return _without_timing(json.loads(a.read_text())) == _without_timing(json.loads(b.read_text()))
    if rel.endswith(TIMED_TABLES):
        fa, fb = (pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False) for p in (a, b))
        cols = [c for c in fa.columns if c not in TIMING_KEYS]
        return list(fa.columns) == list(fb.columns) and fa[cols].equals(fb[cols])
    if rel.endswith("report.html"):
        date = re.compile(r"<p class='muted'>[^<]*</p>")
        place = re.compile(
            r'<tr><td class="l">(?:{})</td><td class="l">[^<]*</td></tr>'.format("|".join(REPORT_PLACE_PARAMETERS))
        )
        norm = lambda p: place.sub("", date.sub("", p.read_text()))  # noqa: E731
        return norm(a) == norm(b)
    return False


def assert_same_results(reference: Path, other: Path) -> int:
    """Every file of two runs' --outdir (pipeline_info/ aside) is the same: byte for byte, or but for the
    measured times (TIMING_KEYS), the report's date and where the run ran. Returns the number of files."""

    def files(root):
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).parts[0] != "pipeline_info"
        }

    ref, got = files(reference), files(other)
    assert ref == got, (
        f"files only in the reference: {sorted(ref - got)[:10]}; only in the other run: {sorted(got - ref)[:10]}"
    )
    differ = [rel for rel in sorted(ref) if not _same_file(reference / rel, other / rel, rel)]
    assert not differ, f"{len(differ)} of {len(ref)} files differ from the reference run: {differ[:10]}"
    return len(ref)


# The placeholder files tests/nextflow/modules.nf gives its modules (one task each).
MODULE_INPUTS = [
    "genes.gtf",
    "cellA.bam",
    "cellA.bam.bai",
    "contacts.mcool",
    "genes.tsv",
    "a/H3K4me3.bw",
    "b/H3K4me3.bw",
    "pcres.tsv",
    "expression.tsv",
    "cellA.h5",
    "model.pt",
    "manifest.tsv",
    "heldout.tsv",
    "metrics.json",
    "metrics.tsv",
    "effects.tsv",
    "run.json",
    "versions.yml",
]


def module_inputs(folder: Path) -> Path:
    for name in MODULE_INPUTS:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("placeholder\n")
    return folder


def bare_root(folder: Path) -> Path:
    """An image folder without chromoflow: a shell and its libraries, and the mount points runtimes bind."""
    root = folder / "bare-root"
    for d in ("bin", "dev", "proc", "sys", "tmp", "home", "mnt", "run", "etc", "root", "var/tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for name in ("hosts", "resolv.conf", "passwd", "group", "localtime"):
        (root / "etc" / name).touch()
    shutil.copy("/bin/dash", root / "bin" / "sh")
    for line in subprocess.run(["ldd", "/bin/dash"], capture_output=True, text=True).stdout.splitlines():
        lib = next((w for w in line.split() if w.startswith("/")), None)
        if lib:
            dst = root / Path(lib).resolve().relative_to("/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(lib, dst)
            if Path(lib).resolve() != Path(lib):  # keep the path the binary asks for (/lib64/ld-linux...)
                link = root / Path(lib).relative_to("/")
                link.parent.mkdir(parents=True, exist_ok=True)
                if not link.exists():
                    link.symlink_to(Path(lib).resolve())
    return root
