"""The Nextflow pipeline, run for real: the test profile end to end, -resume,
a full-size -stub-run with the GPU label, the real-data profile, and bad
samplesheets. Needs `nextflow` (``make setup`` installs it from Maven Central)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SIM = REPO / "tests" / "data" / "sim"
MARKS = ["H3K4me1", "H3K4me3", "H3K9me3", "H3K27me3", "H3K36me3", "H3K27ac", "H3K9ac"]

pytestmark = pytest.mark.slow


def nextflow_bin() -> str:
    venv_bin = Path(sys.executable).parent
    found = shutil.which("nextflow", path=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        if os.environ.get("CHROMOFLOW_REQUIRE_NEXTFLOW"):
            pytest.fail("nextflow not found: run 'make setup' (installs it from Maven Central)")
        pytest.skip("nextflow not installed (make setup installs it)")
    return found


def nextflow(launch: Path, *args, check: bool = True) -> subprocess.CompletedProcess:
    """`nextflow run <repo> ARGS` in ``launch``, with this venv's chromoflow on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("NXF_ANSI_LOG", "false")
    launch.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([nextflow_bin(), "run", str(REPO), *map(str, args)], cwd=launch, env=env, capture_output=True, text=True, timeout=1500)
    if check and proc.returncode != 0:
        raise AssertionError(f"nextflow failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return proc


def trace(outdir: Path) -> pd.DataFrame:
    files = sorted((outdir / "pipeline_info").glob("trace_*.txt"))
    return pd.read_csv(files[-1], sep="\t")


@pytest.fixture(scope="module")
def test_run(tmp_path_factory):
    launch = tmp_path_factory.mktemp("nf-test")
    proc = nextflow(launch, "-profile", "test", "--outdir", launch / "results")
    return launch, proc


def test_profile_test_end_to_end(test_run):
    launch, proc = test_run
    out = launch / "results"
    metrics = pd.read_csv(out / "summary" / "metrics.tsv", sep="\t")
    # one row per sample x fold x model, with real numbers
    assert len(metrics) == 2 * 4 * 3
    assert set(metrics["sample"]) == {"cellA", "cellB"} and set(metrics["fold"]) == {1, 2, 3, 4}
    assert set(metrics["model"]) == {"chromoformer", "attentivechrome", "deepchrome"}
    assert metrics["roc_auc"].between(0, 1).all() and metrics["n"].gt(20).all()
    assert metrics.groupby("model")["roc_auc"].mean().min() > 0.7
    assert metrics["epochs_run"].gt(0).all() and metrics["train_genes_per_s"].gt(0).all()
    by_model = pd.read_csv(out / "summary" / "metrics_by_model.tsv", sep="\t")
    assert len(by_model) == 6 and (by_model["folds"] == 4).all()
    assert (out / "summary" / "metrics.png").stat().st_size > 0
    # predictions for every gene of every held-out fold
    for sample in ("cellA", "cellB"):
        with h5py.File(out / "datasets" / f"{sample}.h5") as h5:
            genes = set(h5["genes/gene_id"].asstr()[()][h5["genes/fold"][()] > 0])
        for model in ("chromoformer", "attentivechrome", "deepchrome"):
            files = sorted((out / "predictions" / sample / "classification" / model).glob("*.predictions.tsv"))
            assert len(files) == 4
            pred = pd.concat(pd.read_csv(f, sep="\t") for f in files)
            assert set(pred.gene_id) == genes and pred.prediction.between(0, 1).all()
        att = list((out / "predictions" / sample / "classification" / "chromoformer").glob("*.attention.bedpe"))
        assert len(att) == 4
    # trained models and their reports
    run = out / "training" / "cellA" / "classification" / "chromoformer" / "fold1"
    ck = torch.load(run / "model.pt", weights_only=True)
    assert ck["fold"] == 1 and ck["dataset"]["marks"] == MARKS
    for name in ("metrics.json", "history.tsv", "heldout.tsv", "roc.png", "history.png"):
        assert (run / name).exists(), name
    assert not list(run.glob("*.metrics.json"))  # the summary's copy is not published
    versions = (out / "pipeline_info" / "software_versions.yml").read_text()
    assert "CHROMOFLOW:TRAIN" in versions and "chromoflow: 0.1.0" in versions and "torch:" in versions
    assert (out / "pcres" / "contacts.mcool.5000.pcres.tsv").exists()


def test_resume_reruns_nothing(test_run):
    launch, _ = test_run
    proc = nextflow(launch, "-profile", "test", "--outdir", launch / "results", "-resume")
    t = trace(launch / "results")
    assert len(t) == 53 and (t.status == "CACHED").all(), t.status.value_counts()


def write_sheet(path: Path, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample", "mark", "track", "contacts", "expression"])
        w.writerows(rows)


def test_stub_run_full_configuration(tmp_path):
    """Four samples (one with a BAM track, one without contacts), 4 folds, 4 models, 3 tasks, GPU label."""
    bam = tmp_path / "cellD-H3K4me3.bam"
    bam.write_bytes(b"")
    (tmp_path / "cellD-H3K4me3.bam.bai").write_bytes(b"")
    rows = []
    for sample, contacts in (("cellA", f"{SIM}/contacts.mcool::resolutions/5000"), ("cellB", f"{SIM}/contacts.mcool::resolutions/5000"), ("cellC", f"{SIM}/interactions.bedpe"), ("cellD", "")):
        src = "cellB" if sample == "cellB" else "cellA"
        for m in MARKS:
            track = bam if (sample == "cellD" and m == "H3K4me3") else SIM / f"{src}-{m}.bw"
            rows.append([sample, m, track, contacts, SIM / "expression.tsv"])
    write_sheet(tmp_path / "sheet.csv", rows)
    out = tmp_path / "results"
    proc = nextflow(
        tmp_path, "-stub-run", "-profile", "gpu", "--input", tmp_path / "sheet.csv", "--genes", SIM / "genes.gtf", "--outdir", out,
        "--models", "chromoformer,chromoformer-nohic,attentivechrome,deepchrome", "--tasks", "classification,regression,fold-change",
        "--pairs", "cellA:cellB,cellC:cellD", "--max_cpus", 2, "--max_memory", "4.GB",
    )
    t = trace(out)
    t["process"] = t["name"].str.split(" ").str[0].str.split(":").str[-1]
    counts = t.groupby("process").size().to_dict()
    n_train = 4 * 2 * 4 * 4 + 2 * 4 * 4  # samples x tasks x models x folds + pairs x models x folds
    assert counts == {"GENES": 1, "COVERAGE": 1, "PCRES": 2, "DATASET": 4, "TRAIN": n_train, "PREDICT": n_train, "SUMMARIZE": 1}, counts
    assert (t.status == "COMPLETED").all()
    names = set(t.name)
    assert "CHROMOFLOW:TRAIN (cellA_vs_cellB.fold-change.chromoformer-nohic.fold3)" in names
    assert "CHROMOFLOW:TRAIN (cellD.regression.attentivechrome.fold4)" in names
    assert "chromoflow cannot start" not in proc.stdout


def test_gpu_and_cluster_profiles_resolve():
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")

    def config(profiles):
        proc = subprocess.run([nextflow_bin(), "config", str(REPO), "-profile", profiles, "-flat"], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    gpu = config("gpu,docker")
    assert "process.'withLabel:process_gpu'.accelerator = 1" in gpu and "params.device = 'cuda'" in gpu
    assert "docker.runOptions = '-u $(id -u):$(id -g)'" in gpu
    slurm = config("gpu,slurm,singularity")
    assert "process.executor = 'slurm'" in slurm and "process.'withLabel:process_gpu'.clusterOptions = '--gres=gpu:1'" in slurm
    google = config("gpu,google")
    assert "process.executor = 'google-batch'" in google
    assert "process.executor = 'awsbatch'" in config("awsbatch")


def test_profile_test_real(tmp_path):
    proc = nextflow(tmp_path, "-profile", "test_real", "--outdir", tmp_path / "results")
    metrics = pd.read_csv(tmp_path / "results" / "summary" / "metrics.tsv", sep="\t")
    assert len(metrics) == 2 * 2 * 3  # models x tasks x random:3 folds
    assert metrics["n"].sum() == 2 * 2 * 18  # every real gene predicted once per model and task
    with h5py.File(tmp_path / "results" / "datasets" / "E003.h5") as h5:
        assert list(h5.attrs["marks"]) == MARKS and len(h5["pcres/start"]) == 123


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda rows: [r[:2] + [r[2].replace(".bw", "-missing.bw")] + r[3:] if i == 1 else r for i, r in enumerate(rows)], "line 3, column 'track': file not found"),
        (lambda rows: [r[:3] + ["other.bedpe"] + r[4:] if i == 2 else r for i, r in enumerate(rows)], "line 4, column 'contacts'"),
        (lambda rows: [["cell A"] + r[1:] if i == 0 else r for i, r in enumerate(rows)], "line 2, column 'sample': 'cell A' must start with a letter or digit"),
        (lambda rows: rows[:-1], "sample 'cellB' has no track for mark(s) H3K9ac"),
        (lambda rows: [r[:3] + [f"{SIM}/contacts.mcool"] + r[4:] for r in rows], "a .mcool needs a resolution"),
    ],
)
def test_bad_samplesheet_stops_before_any_task(tmp_path, mutate, message):
    rows = [[s, m, str(SIM / f"{s}-{m}.bw"), f"{SIM}/contacts.mcool::resolutions/5000", str(SIM / "expression.tsv")] for s in ("cellA", "cellB") for m in MARKS]
    write_sheet(tmp_path / "bad.csv", mutate(rows))
    proc = nextflow(tmp_path, "-profile", "test", "--input", tmp_path / "bad.csv", "--outdir", tmp_path / "results", check=False)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "chromoflow cannot start" in text and message in text, text[-3000:]
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


def test_bad_parameters(tmp_path):
    proc = nextflow(tmp_path, "-profile", "test", "--models", "chromoformer,bert", "--epochs", "many", "--outdir", tmp_path / "r", check=False)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "--models: 'chromoformer,bert' does not match" in text
    assert "--epochs: expected integer, got 'many'" in text
