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

from chromoflow.training.metrics import roc_auc

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
    assert (metrics["status"] == "scored").all()
    assert metrics["roc_auc"].between(0, 1).all() and metrics["n"].gt(20).all()
    assert metrics.groupby("model")["roc_auc"].mean().min() > 0.7
    assert metrics["epochs_run"].gt(0).all() and metrics["train_genes_per_s"].gt(0).all()
    by_model = pd.read_csv(out / "summary" / "metrics_by_model.tsv", sep="\t")
    assert len(by_model) == 6 and (by_model["folds"] == 4).all()
    assert (out / "summary" / "metrics.png").stat().st_size > 0
    # held-out predictions, written by training itself, for every gene of every held-out fold
    for sample in ("cellA", "cellB"):
        with h5py.File(out / "datasets" / f"{sample}.h5") as h5:
            genes = set(h5["genes/gene_id"].asstr()[()][h5["genes/fold"][()] > 0])
        for model in ("chromoformer", "attentivechrome", "deepchrome"):
            files = sorted((out / "training" / sample / "classification" / model).glob("fold*/heldout.tsv"))
            assert len(files) == 4
            pred = pd.concat(pd.read_csv(f, sep="\t") for f in files)
            assert set(pred.gene_id) == genes and pred.prediction.between(0, 1).all() and (pred.heldout == 1).all()
    # trained models and their reports
    run = out / "training" / "cellA" / "classification" / "chromoformer" / "fold1"
    ck = torch.load(run / "model.pt", weights_only=True)
    assert ck["fold"] == 1 and ck["dataset"]["marks"] == MARKS
    for name in ("metrics.json", "history.tsv", "heldout.tsv", "roc.png", "history.png"):
        assert (run / name).exists(), name
    assert not list(run.glob("*.metrics.json")) and not list(run.glob("*.heldout.tsv"))  # the summary's copies are not published
    versions = (out / "pipeline_info" / "software_versions.yml").read_text()
    assert "CHROMOFLOW:TRAIN" in versions and "chromoflow: 0.1.0" in versions and "torch:" in versions
    assert (out / "pcres" / "contacts.mcool.5000.pcres.tsv").exists()
    t = trace(out)
    assert not t.name.str.contains("PREDICT").any()  # held-out predictions are not computed a second time
    # Interpretation of every Chromoformer run, and one self-contained report.
    fold = out / "interpretation" / "cellA" / "classification" / "chromoformer" / "fold2"
    for name in ("effects.tsv", "links.bedpe", "links.interact", "run.json", "tracks/attribution_profile.png", "tracks/attribution.H3K36me3.bw"):
        assert (fold / name).exists(), name
    links = pd.read_csv(fold / "links.bedpe", sep="\t")
    with h5py.File(out / "datasets" / "cellA.h5") as h5:
        n_fold2 = int(h5["genes/pcre_count"][()][h5["genes/fold"][()] == 2].sum())
    assert len(links) == n_fold2 and links["#chrom1"].str.startswith("chr").all()
    report = (out / "summary" / "report.html").read_text()
    assert "<img src=\"data:image/png;base64," in report and "src=\"http" not in report and "<script" not in report
    assert "The gain from 3D contacts was not measured" in report  # the test profile trains no chromoformer-nohic
    assert report.count("roc_auc") >= 6 and "cellA · classification · chromoformer (4 folds)" in report


def test_resume_reruns_nothing(test_run):
    launch, _ = test_run
    nextflow(launch, "-profile", "test", "--outdir", launch / "results", "-resume")
    t = trace(launch / "results")
    assert len(t) == 29 + 8 + 1 and (t.status == "CACHED").all(), t.status.value_counts()  # + INTERPRET x 8, REPORT


def test_pretrained_checkpoints_are_scored_on_held_out_genes_only(test_run, tmp_path):
    """Four model.pt files (one per fold, same file name) on both samples: no collision, held-out genes only."""
    launch, _ = test_run
    glob = f"{launch}/results/training/cellA/classification/chromoformer/fold*/model.pt"
    out = tmp_path / "results"
    nextflow(tmp_path, "-profile", "test", "--pretrained", glob, "--outdir", out)
    metrics = pd.read_csv(out / "summary" / "metrics.tsv", sep="\t")
    assert len(metrics) == 2 * 4 and (metrics.status == "scored").all()
    assert set(metrics.model) == {"chromoformer"} and set(metrics.task) == {"classification"} and sorted(set(metrics.fold)) == [1, 2, 3, 4]
    assert set(metrics.trained_on) == {"cellA"}
    with h5py.File(out / "datasets" / "cellA.h5") as h5:
        folds = pd.Series(h5["genes/fold"][()])
    for fold in (1, 2, 3, 4):
        row = metrics[(metrics["sample"] == "cellA") & (metrics.fold == fold)].iloc[0]
        assert row.n == int((folds == fold).sum())  # the checkpoint's own held-out fold, not all genes
        trained = pd.read_csv(launch / "results" / "training" / "cellA" / "classification" / "chromoformer" / f"fold{fold}" / "heldout.tsv", sep="\t")
        assert row.roc_auc == pytest.approx(roc_auc(trained.label, trained.prediction), abs=1e-4)  # the same as training reported
    names = sorted(p.name for p in (out / "predictions" / "cellA").glob("*.predictions.tsv"))
    assert len(names) == 4 and len(set(names)) == 4 and all(".fold" in n for n in names)
    # Their interpretation runs on each checkpoint's held-out fold, and the report covers them.
    interp = sorted((out / "interpretation" / "cellA" / "classification" / "chromoformer").iterdir())
    assert [p.name for p in interp] == ["fold1", "fold2", "fold3", "fold4"]
    assert (out / "summary" / "report.html").exists()


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
    expr = pd.read_csv(SIM / "expression.tsv", sep="\t")
    expr["cellC"], expr["cellD"] = expr.cellA, expr.cellB
    expr.to_csv(tmp_path / "expression.tsv", sep="\t", index=False)
    rows = []
    for sample, contacts in (("cellA", f"{SIM}/contacts.mcool::resolutions/5000"), ("cellB", f"{SIM}/contacts.mcool::resolutions/5000"), ("cellC", f"{SIM}/interactions.bedpe"), ("cellD", "")):
        src = "cellB" if sample == "cellB" else "cellA"
        for m in MARKS:
            track = bam if (sample == "cellD" and m == "H3K4me3") else SIM / f"{src}-{m}.bw"
            rows.append([sample, m, track, contacts, tmp_path / "expression.tsv"])
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
    # The gpu profile trains a sample x task x model's four folds in one task (--folds_per_task 0).
    n_train = 4 * 2 * 4 + 2 * 4  # samples x tasks x models + pairs x models
    n_interpret = 4 * 2 * 4 + 2 * 4  # chromoformer runs, one per fold: samples x tasks x folds + pairs x folds
    assert counts == {"GENES": 1, "COVERAGE": 1, "PCRES": 2, "DATASET": 4, "TRAIN": n_train, "INTERPRET": n_interpret, "SUMMARIZE": 1, "REPORT": 1}, counts
    assert (t.status == "COMPLETED").all()
    names = set(t.name)
    assert "CHROMOFLOW:TRAIN (cellA_vs_cellB.fold-change.chromoformer-nohic.folds1-2-3-4)" in names
    assert "CHROMOFLOW:TRAIN (cellD.regression.attentivechrome.folds1-2-3-4)" in names
    assert "CHROMOFLOW:INTERPRET (cellC_vs_cellD.fold-change.chromoformer.fold3)" in names
    for fold in (1, 2, 3, 4):  # published per fold, as with one fold per task
        assert (out / "training" / "cellD" / "regression" / "attentivechrome" / f"fold{fold}" / "model.pt").exists()
    assert "chromoflow cannot start" not in proc.stdout


def test_gpu_profile_on_a_local_machine(tmp_path):
    """-profile gpu with --gpus 2 (run on the CPU here): each sample x model task trains its four folds
    in one process, holds a GPU slot of its own, and every fold is published and scored as usual."""
    out = tmp_path / "results"
    nextflow(tmp_path, "-profile", "test,gpu", "--device", "cpu", "--gpus", 2, "--models", "deepchrome", "--epochs", 2, "--perturb", "false", "--outdir", out)
    t = trace(out)
    train = t[t.name.str.contains("TRAIN")]
    assert sorted(train.name) == [f"CHROMOFLOW:TRAIN (cell{s}.classification.deepchrome.folds1-2-3-4)" for s in "AB"]
    slots = []
    for h in train.hash:
        (task_dir,) = (tmp_path / "work").glob(f"{h}*")
        script, err = (task_dir / ".command.sh").read_text(), (task_dir / ".command.err").read_text()
        assert ". chromoflow-gpu-slot" in script and "/.chromoflow-gpu-locks\" '0,1'" in script
        slots.append(err.split("task holds GPU ")[1].split()[0])
    assert set(slots) <= {"0", "1"}
    assert {p.name for p in (tmp_path / "work" / ".chromoflow-gpu-locks").iterdir()} <= {"gpu0.lock", "gpu1.lock"}
    metrics = pd.read_csv(out / "summary" / "metrics.tsv", sep="\t")
    assert len(metrics) == 2 * 4 and (metrics.status == "scored").all() and sorted(set(metrics.fold)) == [1, 2, 3, 4]
    for fold in (1, 2, 3, 4):
        run = out / "training" / "cellB" / "classification" / "deepchrome" / f"fold{fold}"
        assert torch.load(run / "model.pt", weights_only=True)["fold"] == fold and (run / "heldout.tsv").exists()
    # -resume re-runs nothing: the GPU slot line names no path whose time stamp moves.
    nextflow(tmp_path, "-profile", "test,gpu", "--device", "cpu", "--gpus", 2, "--models", "deepchrome", "--epochs", 2, "--perturb", "false", "--outdir", out, "-resume")
    assert (trace(out).status == "CACHED").all()


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
    assert metrics["n"].sum() == 2 * 2 * 19  # every real gene predicted once per model and task
    with h5py.File(tmp_path / "results" / "datasets" / "E003.h5") as h5:
        assert list(h5.attrs["marks"]) == MARKS and len(h5["pcres/start"]) == 131


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda rows: [r[:2] + [r[2].replace(".bw", "-missing.bw")] + r[3:] if i == 1 else r for i, r in enumerate(rows)], "line 3, column 'track': file not found"),
        (lambda rows: [r[:3] + ["other.bedpe"] + r[4:] if i == 2 else r for i, r in enumerate(rows)], "line 4, column 'contacts'"),
        (lambda rows: [["cell A"] + r[1:] if i == 0 else r for i, r in enumerate(rows)], "line 2, column 'sample': 'cell A' must start with a letter or digit"),
        (lambda rows: rows[:-1], "sample 'cellB' has no track for mark(s) H3K9ac"),
        (lambda rows: [r[:3] + [f"{SIM}/contacts.mcool"] + r[4:] for r in rows], "a .mcool needs a resolution"),
        (lambda rows: [[";".join(r)] for r in rows], "the samplesheet is ';'-separated"),
    ],
)
def test_bad_samplesheet_stops_before_any_task(tmp_path, mutate, message):
    rows = [[s, m, str(SIM / f"{s}-{m}.bw"), f"{SIM}/contacts.mcool::resolutions/5000", str(SIM / "expression.tsv")] for s in ("cellA", "cellB") for m in MARKS]
    if "';'-separated" in message:
        (tmp_path / "bad.csv").write_text(";".join(["sample", "mark", "track", "contacts", "expression"]) + "\n" + "".join(r[0] + "\n" for r in mutate(rows)))
    else:
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


# ------------------------------------------------------------------ quoting, caps and checks


HOSTILE = "$(touch MARKER)"


def hostile_copy(tmp_path: Path) -> Path:
    """The simulated pair with hostile and spaced file names: tracks, contacts, expression and config."""
    folder = tmp_path / f"in put {HOSTILE}"
    folder.mkdir()
    rows = []
    for sample in ("cellA", "cellB"):
        for m in MARKS:
            dst = folder / f"{sample} {m} {HOSTILE}'q.bw"
            shutil.copy(SIM / f"{sample}-{m}.bw", dst)
            rows.append([sample, m, str(dst), f"{folder}/contacts {HOSTILE}.mcool::resolutions/5000", str(folder / f"expr {HOSTILE}.tsv")])
    shutil.copy(SIM / "contacts.mcool", folder / f"contacts {HOSTILE}.mcool")
    shutil.copy(SIM / "expression.tsv", folder / f"expr {HOSTILE}.tsv")
    write_sheet(tmp_path / "sheet.csv", rows)
    (folder / f"tiny {HOSTILE}.yaml").write_text("preset: tiny\n")
    return folder


def test_no_parameter_or_file_name_runs_code(tmp_path):
    """Every string parameter and every file name carrying $(touch MARKER): the run works and nothing is executed."""
    folder = hostile_copy(tmp_path)
    out = tmp_path / f"results {HOSTILE}"
    nextflow(
        tmp_path, "-profile", "test", "--input", tmp_path / "sheet.csv", "--outdir", out,
        "--gene_type", f"protein_coding,lncRNA {HOSTILE}", "--config", folder / f"tiny {HOSTILE}.yaml",
        "--models", "deepchrome", "--folds", "1", "--normalization", "weight", "--score_column", f"x{HOSTILE}",
        "--container", f"img{HOSTILE}", "--bedpe_anchors", "either",
    )
    metrics = pd.read_csv(out / "summary" / "metrics.tsv", sep="\t")
    assert len(metrics) == 2 and (metrics.status == "scored").all() and set(metrics.fold) == {1}
    markers = [p for p in tmp_path.rglob("MARKER")] + [p for p in Path.cwd().rglob("MARKER")]
    assert not markers, markers
    scripts = list((tmp_path / "work").rglob(".command.sh"))
    assert scripts and any(HOSTILE in s.read_text() for s in scripts)  # the values did reach the scripts, quoted


def test_help_creates_nothing(tmp_path):
    proc = nextflow(tmp_path, "--help")
    assert "--input" in proc.stdout and "--bedpe_anchors" in proc.stdout
    assert not (tmp_path / "results").exists()


def test_plain_run_fits_the_local_machine(tmp_path):
    """No profile on a machine with fewer CPUs than the labels ask for: requests are capped, not refused."""
    proc = nextflow(tmp_path, "-stub-run", "--input", SIM / "samplesheet.csv", "--genes", SIM / "genes.gtf", "--outdir", tmp_path / "r", "--models", "deepchrome", "--folds", 1)
    assert "Process requirement exceeds available" not in proc.stdout + proc.stderr
    t = trace(tmp_path / "r")
    assert (t.status == "COMPLETED").all() and t.cpus.max() <= os.cpu_count()


def test_single_fold_and_same_track_file_names(tmp_path):
    """--folds 1 arrives as a number; two marks whose files share a name (in different folders) still stage."""
    rows = []
    for sample in ("cellA", "cellB"):
        for m in MARKS:
            d = tmp_path / sample / m
            d.mkdir(parents=True)
            shutil.copy(SIM / f"{sample}-{m}.bw", d / "signal.bw")
            rows.append([sample, m, d / "signal.bw", f"{SIM}/contacts.mcool::resolutions/5000", SIM / "expression.tsv"])
    write_sheet(tmp_path / "sheet.csv", rows)
    nextflow(tmp_path, "-stub-run", "-profile", "test", "--input", tmp_path / "sheet.csv", "--folds", 1, "--outdir", tmp_path / "r")
    t = trace(tmp_path / "r")
    assert t.name.str.contains("TRAIN").sum() == 2 * 3 and (t.status == "COMPLETED").all()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--folds", "5"], "--folds 5: fold(s) 5 do not exist under --fold_scheme auto"),
        (["--fold_scheme", "random:3", "--folds", "1,4"], "fold(s) 4 do not exist under --fold_scheme random:3"),
        (["--max_pcres", "0"], "--max_pcres: 0 is below the minimum 1"),
        (["--gene_type", "protein_coding,,lncRNA"], "--gene_type 'protein_coding,,lncRNA': empty item"),
        (["--fold_scheme", "thirds"], "--fold_scheme: 'thirds' does not match"),
        (["--bedpe_anchors", "both"], "--bedpe_anchors: 'both' is not one of auto, first, either"),
        (["--genes", "/no/such/genes.gtf"], "--genes: /no/such/genes.gtf: file not found"),
        (["--pretrained", "/no/such/*.pt"], "--pretrained: no file matches"),
        (["--seed", "-1"], "--seed: -1 is below the minimum 0"),
        (["--perturb_silence", "H3K99me9"], "--perturb_silence H3K99me9: no mark H3K99me9 in the samplesheet"),
        (["--pretrained", str(SIM / "genes.gtf")], "genes.gtf: not a PyTorch checkpoint"),
        (["--validate_params", "false", "--folds", "1,x"], "--folds 1,x: 'x' is not a fold number"),
    ],
)
def test_bad_parameters_stop_before_any_task(tmp_path, args, message):
    proc = nextflow(tmp_path, "-profile", "test", *args, "--outdir", tmp_path / "r", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "chromoflow cannot start" in text and message in text, text[-3000:]
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


def test_expression_table_must_name_every_sample(tmp_path):
    expr = tmp_path / "expr.tsv"
    expr.write_text((SIM / "expression.tsv").read_text().replace("cellB", "cellC"))
    rows = [[s, m, str(SIM / f"{s}-{m}.bw"), "", str(expr)] for s in ("cellA", "cellB") for m in MARKS]
    write_sheet(tmp_path / "sheet.csv", rows)
    proc = nextflow(tmp_path, "-profile", "test", "--input", tmp_path / "sheet.csv", "--outdir", tmp_path / "r", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "column 'expression': expr.tsv has no column for sample 'cellB'" in text, text[-2000:]


def test_gpu_profile_publishes_only_fold_folders(tmp_path):
    """-profile test,gpu (all of a sample x task x model's folds in one task), stub run: training/<s>/<t>/<m>/ holds
    exactly fold1..fold4 with each fold's files, and the summary gets every fold's run."""
    out = tmp_path / "results"
    nextflow(tmp_path, "-stub-run", "-profile", "test,gpu", "--outdir", out)
    for sample in ("cellA", "cellB"):
        for model in ("chromoformer", "attentivechrome", "deepchrome"):
            folder = out / "training" / sample / "classification" / model
            assert sorted(p.name for p in folder.iterdir()) == ["fold1", "fold2", "fold3", "fold4"], sorted(folder.iterdir())
            for k in (1, 2, 3, 4):
                assert sorted(p.name for p in (folder / f"fold{k}").iterdir()) == ["heldout.tsv", "metrics.json", "model.pt"]
        interp = out / "interpretation" / sample / "classification" / "chromoformer"
        assert sorted(p.name for p in interp.iterdir()) == ["fold1", "fold2", "fold3", "fold4"]
    (task,) = [d for d in (tmp_path / "work").glob("*/*") if (d / "manifest.tsv").exists()]
    manifest = pd.read_csv(task / "manifest.tsv", sep="\t")
    assert len(manifest) == 2 * 3 * 4 and sorted(set(manifest.fold)) == [1, 2, 3, 4]
    assert all((task / "runs" / p).exists() for p in manifest.predictions) and manifest.predictions.is_unique


def test_spreadsheet_samplesheet_and_tool_expression_tables(tmp_path):
    """An Excel-saved samplesheet (BOM, CRLF, trailing empty columns and rows) naming a featureCounts table whose
    sample columns are BAM paths: accepted, and every sample gets its dataset and training (stub run)."""
    expr = pd.read_csv(SIM / "expression.tsv", sep="\t")
    with open(tmp_path / "counts.txt", "w") as fh:
        fh.write('# Program:featureCounts v2.0.6; Command:"featureCounts" "-o" "counts.txt"\n')
        fh.write("Geneid\tChr\tStart\tEnd\tStrand\tLength\t/data/cellA.sorted.bam\t/data/cellB.sorted.bam\n")
        for r in expr.itertuples():
            fh.write(f"{r.gene_id}\tchr1\t1\t2\t+\t1\t{r.cellA}\t{r.cellB}\n")
    lines = ["sample,mark,track,contacts,expression,,"]
    lines += [f"{s},{m},{SIM / f'{s}-{m}.bw'},{SIM}/contacts.mcool::resolutions/5000,{tmp_path / 'counts.txt'},," for s in ("cellA", "cellB") for m in MARKS]
    lines += [",,,,,,", ",,,,,,"]
    (tmp_path / "sheet.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    nextflow(tmp_path, "-stub-run", "-profile", "test", "--input", tmp_path / "sheet.csv", "--models", "deepchrome", "--folds", 1, "--outdir", tmp_path / "r")
    t = trace(tmp_path / "r")
    assert t.name.str.contains("DATASET").sum() == 2 and t.name.str.contains("TRAIN").sum() == 2 and (t.status == "COMPLETED").all()
