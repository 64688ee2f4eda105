"""The Nextflow pipeline, run for real: the test profile end to end under the strict
syntax parser on the newest Nextflow (and -resume, MultiQC over its results),
predict-only runs, a full-size -stub-run with the GPU label, hostile values and an
institutional config, the real-data profile, the checks that stop a run before any
task, and the linters (nextflow lint, nf-core's schema and pipeline lints).
The checks themselves, case by case, are in test_pipeline_checks.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import h5py
import pandas as pd
import pytest
import torch
from _nextflow import (
    MARKS,
    REPO,
    SIM,
    nextflow,
    nextflow_bin,
    nextflow_env,
    sim_rows,
    tool,
    trace,
    write_sheet,
)

from chromoflow.evaluate.metrics import roc_auc

pytestmark = [pytest.mark.slow, pytest.mark.nextflow]


@pytest.fixture(scope="module")
def test_run(test_profile_run):
    """-profile test under the strict parser (conftest's session-wide run, also the deployment tests' reference)."""
    return test_profile_run


def test_profile_test_end_to_end(test_run):
    launch, out = test_run
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
    assert not list(run.glob("*.metrics.json")) and not list(
        run.glob("*.heldout.tsv")
    )  # the summary's copies are not published
    versions = (out / "pipeline_info" / "chromoflow_software_mqc_versions.yml").read_text()
    assert "CHROMOFLOW:TRAIN_MODELS:TRAIN" in versions and "chromoflow: 0.1.0" in versions and "torch:" in versions
    for name in ("chromoflow_general_stats_mqc.tsv", "chromoflow_metrics_mqc.tsv", "chromoflow_metrics_mqc.png"):
        assert (out / "summary" / name).stat().st_size > 0, name
    assert (out / "pcres" / "contacts.mcool.5000.pcres.tsv").exists()
    t = trace(out)
    assert not t.name.str.contains("PREDICT").any()  # held-out predictions are not computed a second time
    # Interpretation of every Chromoformer run, and one self-contained report.
    fold = out / "interpretation" / "cellA" / "classification" / "chromoformer" / "fold2"
    for name in (
        "effects.tsv",
        "links.bedpe",
        "links.interact",
        "run.json",
        "tracks/attribution_profile.png",
        "tracks/attribution.H3K36me3.bw",
    ):
        assert (fold / name).exists(), name
    links = pd.read_csv(fold / "links.bedpe", sep="\t")
    with h5py.File(out / "datasets" / "cellA.h5") as h5:
        n_fold2 = int(h5["genes/pcre_count"][()][h5["genes/fold"][()] == 2].sum())
    assert len(links) == n_fold2 and links["#chrom1"].str.startswith("chr").all()
    report = (out / "summary" / "report.html").read_text()
    assert '<img src="data:image/png;base64,' in report and 'src="http' not in report and "<script" not in report
    assert "The gain from 3D contacts was not measured" in report  # the test profile trains no chromoformer-nohic
    assert report.count("roc_auc") >= 6 and "cellA · classification · chromoformer (4 folds)" in report


def test_resume_reruns_nothing(test_run):
    launch, _ = test_run
    nextflow(launch, "-profile", "test", "-resume", strict=True)
    t = trace(launch / "results-test")
    # GENES, PCRES, 2 DATASET, 6 TRAIN (4 folds each), SUMMARIZE, 8 INTERPRET, REPORT
    assert len(t) == 12 + 8 and (t.status == "CACHED").all(), t.status.value_counts()


def test_multiqc_reads_the_summary(test_run, tmp_path):
    """One `multiqc` over the results (as users of nf-core pipelines run it) shows chromoflow's sections and numbers."""
    launch, _ = test_run
    multiqc = Path(tool("CHROMOFLOW_NFCORE_BIN", "nf-core tools and MultiQC")) / "multiqc"
    proc = subprocess.run(
        [str(multiqc), str(launch / "results-test"), "-o", str(tmp_path / "mqc"), "--no-ansi"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert "chromoflow_general_stats: Found" in log and "chromoflow_metrics_table: Found 6 samples" in log, log[-3000:]
    data = tmp_path / "mqc" / "multiqc_data"
    stats = pd.read_csv(data / "multiqc_general_stats.txt", sep="\t", index_col=0)
    by_model = pd.read_csv(launch / "results-test" / "summary" / "metrics_by_model.tsv", sep="\t")
    expected = by_model.set_index(["sample", "model"])["roc_auc_mean"]
    assert sorted(c.split("-")[-1] for c in stats.columns if "chromoflow" in c) == [
        f"classification_{m}_roc_auc" for m in ("attentivechrome", "chromoformer", "deepchrome")
    ]
    column = next(c for c in stats.columns if c.endswith("classification_chromoformer_roc_auc"))
    assert stats.loc["cellA", column] == pytest.approx(expected["cellA", "chromoformer"], abs=1e-5)
    versions = pd.read_csv(data / "multiqc_software_versions.txt", sep="\t")
    assert "CHROMOFLOW:TRAIN_MODELS:TRAIN" in set(versions.iloc[:, 0]) and "torch" in versions.columns
    report = (tmp_path / "mqc" / "multiqc_report.html").read_text()
    assert "chromoflow: held-out metrics" in report


def test_pretrained_checkpoints_are_scored_on_held_out_genes_only(test_run, tmp_path):
    """Four model.pt files (one per fold, same file name) on both samples: no collision, held-out genes only."""
    launch, _ = test_run
    glob = f"{launch}/results-test/training/cellA/classification/chromoformer/fold*/model.pt"
    out = tmp_path / "results"
    nextflow(tmp_path, "-profile", "test", "--pretrained", glob, "--outdir", out)
    metrics = pd.read_csv(out / "summary" / "metrics.tsv", sep="\t")
    assert len(metrics) == 2 * 4 and (metrics.status == "scored").all()
    assert (
        set(metrics.model) == {"chromoformer"}
        and set(metrics.task) == {"classification"}
        and sorted(set(metrics.fold)) == [1, 2, 3, 4]
    )
    assert set(metrics.trained_on) == {"cellA"}
    with h5py.File(out / "datasets" / "cellA.h5") as h5:
        folds = pd.Series(h5["genes/fold"][()])
    for fold in (1, 2, 3, 4):
        row = metrics[(metrics["sample"] == "cellA") & (metrics.fold == fold)].iloc[0]
        assert row.n == int((folds == fold).sum())  # the checkpoint's own held-out fold, not all genes
        trained = pd.read_csv(
            launch
            / "results-test"
            / "training"
            / "cellA"
            / "classification"
            / "chromoformer"
            / f"fold{fold}"
            / "heldout.tsv",
            sep="\t",
        )
        assert row.roc_auc == pytest.approx(
            roc_auc(trained.label, trained.prediction), abs=1e-4
        )  # the same as training reported
    names = sorted(p.name for p in (out / "predictions" / "cellA").glob("*.predictions.tsv"))
    assert len(names) == 4 and len(set(names)) == 4 and all(".fold" in n for n in names)
    # Their interpretation runs on each checkpoint's held-out fold, and the report covers them.
    interp = sorted((out / "interpretation" / "cellA" / "classification" / "chromoformer").iterdir())
    assert [p.name for p in interp] == ["fold1", "fold2", "fold3", "fold4"]
    assert (out / "summary" / "report.html").exists()


def test_stub_run_full_configuration(tmp_path):
    """Four samples (one with a BAM track, one without contacts), 4 folds, 4 models, 3 tasks, the gpu profile
    (a sample x task x model's four folds in one task): the task matrix, and training/<s>/<t>/<m>/ holding exactly
    fold1..fold4 with each fold's files, every fold's run summarised."""
    bam = tmp_path / "cellD-H3K4me3.bam"
    bam.write_bytes(b"")
    (tmp_path / "cellD-H3K4me3.bam.bai").write_bytes(b"")
    expr = pd.read_csv(SIM / "expression.tsv", sep="\t")
    expr["cellC"], expr["cellD"] = expr.cellA, expr.cellB
    expr.to_csv(tmp_path / "expression.tsv", sep="\t", index=False)
    rows = []
    for sample, contacts in (
        ("cellA", f"{SIM}/contacts.mcool::resolutions/5000"),
        ("cellB", f"{SIM}/contacts.mcool::resolutions/5000"),
        ("cellC", f"{SIM}/interactions.bedpe"),
        ("cellD", ""),
    ):
        src = "cellB" if sample == "cellB" else "cellA"
        for m in MARKS:
            track = bam if (sample == "cellD" and m == "H3K4me3") else SIM / f"{src}-{m}.bw"
            rows.append([sample, m, track, contacts, tmp_path / "expression.tsv"])
    write_sheet(tmp_path / "sheet.csv", rows)
    out = tmp_path / "results"
    proc = nextflow(
        tmp_path,
        "-stub-run",
        "-profile",
        "gpu",
        "--input",
        tmp_path / "sheet.csv",
        "--genes",
        SIM / "genes.gtf",
        "--outdir",
        out,
        "--models",
        "chromoformer,chromoformer-nohic,attentivechrome,deepchrome",
        "--tasks",
        "classification,regression,fold-change",
        "--pairs",
        "cellA:cellB,cellC:cellD",
        "--max_cpus",
        2,
        "--max_memory",
        "4.GB",
    )
    t = trace(out)
    counts = t.groupby("process").size().to_dict()
    n_train = 4 * 2 * 4 + 2 * 4  # samples x tasks x models + pairs x models
    n_interpret = 4 * 2 * 4 + 2 * 4  # chromoformer runs, one per fold: samples x tasks x folds + pairs x folds
    assert counts == {
        "GENES": 1,
        "COVERAGE": 1,
        "PCRES": 2,
        "DATASET": 4,
        "TRAIN": n_train,
        "INTERPRET": n_interpret,
        "SUMMARIZE": 1,
        "REPORT": 1,
    }, counts
    assert (t.status == "COMPLETED").all()
    names = set(t.name)
    assert "CHROMOFLOW:TRAIN_MODELS:TRAIN (cellA_vs_cellB.fold-change.chromoformer-nohic.folds1-2-3-4)" in names
    assert "CHROMOFLOW:TRAIN_MODELS:TRAIN (cellD.regression.attentivechrome.folds1-2-3-4)" in names
    assert "CHROMOFLOW:INTERPRET_AND_REPORT:INTERPRET (cellC_vs_cellD.fold-change.chromoformer.fold3)" in names
    assert (out / "coverage" / "cellD.H3K4me3.bw").exists()
    for sample in ("cellA", "cellD"):
        for model in ("chromoformer", "attentivechrome"):
            folder = out / "training" / sample / "regression" / model
            assert sorted(p.name for p in folder.iterdir()) == ["fold1", "fold2", "fold3", "fold4"], sorted(
                folder.iterdir()
            )
            for k in (1, 2, 3, 4):
                assert sorted(p.name for p in (folder / f"fold{k}").iterdir()) == [
                    "heldout.tsv",
                    "metrics.json",
                    "model.pt",
                ]
        interp = out / "interpretation" / sample / "classification" / "chromoformer"
        assert sorted(p.name for p in interp.iterdir()) == ["fold1", "fold2", "fold3", "fold4"]
    (task,) = [d for d in (tmp_path / "work").glob("*/*") if (d / "manifest.tsv").exists()]
    manifest = pd.read_csv(task / "manifest.tsv", sep="\t")
    assert len(manifest) == n_train * 4 and sorted(set(manifest.fold)) == [1, 2, 3, 4]
    assert all((task / "runs" / p).exists() for p in manifest.predictions) and manifest.predictions.is_unique
    assert "chromoflow cannot start" not in proc.stdout


def test_stub_run_without_profile_spreadsheet_sheet_and_same_track_names(tmp_path):
    """No profile on a machine with fewer CPUs than the labels ask for (requests are capped, not refused); an
    Excel-saved samplesheet (BOM, CRLF, trailing empty columns and rows) naming a featureCounts table with BAM-path
    columns; two marks' files that share a name in different folders; --folds 1 arriving as a number."""
    expr = pd.read_csv(SIM / "expression.tsv", sep="\t")
    with open(tmp_path / "counts.txt", "w") as fh:
        fh.write('# Program:featureCounts v2.0.6; Command:"featureCounts" "-o" "counts.txt"\n')
        fh.write("Geneid\tChr\tStart\tEnd\tStrand\tLength\t/data/cellA.sorted.bam\t/data/cellB.sorted.bam\n")
        for r in expr.itertuples():
            fh.write(f"{r.gene_id}\tchr1\t1\t2\t+\t1\t{r.cellA}\t{r.cellB}\n")
    lines = ["sample,mark,track,contacts,expression,,"]
    for s in ("cellA", "cellB"):
        for m in MARKS:
            d = tmp_path / s / m
            d.mkdir(parents=True)
            shutil.copy(SIM / f"{s}-{m}.bw", d / "signal.bw")
            lines.append(
                f"{s},{m},{d / 'signal.bw'},{SIM}/contacts.mcool::resolutions/5000,{tmp_path / 'counts.txt'},,"
            )
    lines += [",,,,,,", ",,,,,,"]
    (tmp_path / "sheet.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    out = tmp_path / "r"
    proc = nextflow(
        tmp_path,
        "-stub-run",
        "--input",
        tmp_path / "sheet.csv",
        "--genes",
        SIM / "genes.gtf",
        "--models",
        "deepchrome,attentivechrome",
        "--folds",
        1,
        "--outdir",
        out,
    )
    assert "Process requirement exceeds available" not in proc.stdout + proc.stderr
    t = trace(out)
    assert (t.status == "COMPLETED").all() and t.cpus.max() <= os.cpu_count()
    assert (t.process == "DATASET").sum() == 2 and (
        t.process == "TRAIN"
    ).sum() == 2 * 2 * 2  # samples x models x tasks (no profile: both)
    for h in t[t.process == "DATASET"].hash:
        (staged,) = (tmp_path / "work").glob(f"{h}*")
        assert len(list(staged.glob("track*/signal.bw"))) == len(MARKS)  # each in its own folder


def test_gpu_profile_on_a_local_machine(tmp_path):
    """-profile gpu with --gpus 2 (run on the CPU here): each sample x model task trains its four folds
    in one process, holds a GPU slot of its own, and every fold is published and scored as usual."""
    out = tmp_path / "results"
    args = (
        "-profile",
        "test,gpu",
        "--device",
        "cpu",
        "--gpus",
        2,
        "--models",
        "deepchrome",
        "--epochs",
        2,
        "--perturb",
        "false",
    )
    nextflow(tmp_path, *args, "--outdir", out)
    t = trace(out)
    train = t[t.process == "TRAIN"]
    assert sorted(train.name) == [
        f"CHROMOFLOW:TRAIN_MODELS:TRAIN (cell{s}.classification.deepchrome.folds1-2-3-4)" for s in "AB"
    ]
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
    nextflow(tmp_path, *args, "--outdir", out, "-resume")
    assert (trace(out).status == "CACHED").all()


def test_gpu_and_cluster_profiles_resolve():
    def config(profiles):
        proc = subprocess.run(
            [nextflow_bin(), "config", str(REPO), "-profile", profiles, "-flat"],
            capture_output=True,
            text=True,
            env=nextflow_env(),
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    gpu = config("gpu,docker")
    assert "process.'withLabel:process_gpu'.accelerator = 1" in gpu and "params.device = 'cuda'" in gpu
    assert "docker.runOptions = '-u $(id -u):$(id -g)'" in gpu
    slurm = config("gpu,slurm,singularity")
    # GPU tasks ask Slurm for their GPU (only when -profile gpu gave them an accelerator)
    assert "process.executor = 'slurm'" in slurm
    assert (
        "process.'withLabel:process_gpu'.clusterOptions = { task.accelerator ? \"--gres=gpu:${task.accelerator.request}\" : '' }"
        in slurm
    )
    google = config("gpu,google")
    assert "process.executor = 'google-batch'" in google
    assert "process.executor = 'awsbatch'" in config("awsbatch")
    conda = config("conda")
    assert f"process.conda = '{REPO}/environment.yml'" in conda and "conda.enabled = true" in conda


def test_profile_test_real(tmp_path):
    nextflow(
        tmp_path, "-profile", "test_real", "--perturb", "false", "--outdir", tmp_path / "results"
    )  # the files flow
    metrics = pd.read_csv(tmp_path / "results" / "summary" / "metrics.tsv", sep="\t")
    assert len(metrics) == 2 * 2 * 3  # models x tasks x random:3 folds
    assert metrics["n"].sum() == 2 * 2 * 19  # every real gene predicted once per model and task
    with h5py.File(tmp_path / "results" / "datasets" / "E003.h5") as h5:
        assert list(h5.attrs["marks"]) == MARKS and len(h5["pcres/start"]) == 131


def test_failed_checks_stop_before_any_task(tmp_path):
    """A bad samplesheet and a bad parameter: one line each, before any task (the cases: test_pipeline_checks.py)."""
    rows = sim_rows()
    rows[1][2] = rows[1][2].replace(".bw", "-missing.bw")
    write_sheet(tmp_path / "bad.csv", rows)
    proc = nextflow(
        tmp_path,
        "-profile",
        "test",
        "--input",
        tmp_path / "bad.csv",
        "--epochs",
        "many",
        "--outdir",
        tmp_path / "results",
        check=False,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "chromoflow cannot start" in text, text[-3000:]
    assert "bad.csv line 3, column 'track': file not found" in text and "--epochs: expected integer, got 'many'" in text
    assert "Exception" not in text
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())


# ------------------------------------------------------------------ quoting, institutional configs, help


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
            rows.append(
                [
                    sample,
                    m,
                    str(dst),
                    f"{folder}/contacts {HOSTILE}.mcool::resolutions/5000",
                    str(folder / f"expr {HOSTILE}.tsv"),
                ]
            )
    shutil.copy(SIM / "contacts.mcool", folder / f"contacts {HOSTILE}.mcool")
    shutil.copy(SIM / "expression.tsv", folder / f"expr {HOSTILE}.tsv")
    write_sheet(tmp_path / "sheet.csv", rows)
    (folder / f"tiny {HOSTILE}.yaml").write_text("preset: tiny\n")
    return folder


SITE_CONFIG = """
// As nf-core/configs profiles write them.
params {
    config_profile_name        = 'site'
    config_profile_description = 'A site cluster'
    config_profile_contact     = 'admin@example.org'
    config_profile_url         = 'https://example.org'
    site_scratch               = '/scratch'
}
process {
    withName: 'GENES' {
        ext.args = "--gene-type protein_coding --gene-type 'lncRNA HOSTILE'"
    }
    withName: 'DATASET' {
        ext.prefix = { "${meta.id}.prepared" }
    }
}
""".replace("HOSTILE", HOSTILE.replace("$", "\\$"))


def test_hostile_values_and_a_site_config(tmp_path):
    """Every string parameter, every file name and a String ext.args carrying $(touch MARKER): the run works and
    nothing is executed. The site config's config_profile_* parameters are accepted, its own parameter is warned
    about, ext.args and ext.prefix apply."""
    folder = hostile_copy(tmp_path)
    (tmp_path / "site.config").write_text(SITE_CONFIG)
    out = tmp_path / f"results {HOSTILE}"
    proc = nextflow(
        tmp_path,
        "-profile",
        "test",
        "-c",
        tmp_path / "site.config",
        "--input",
        tmp_path / "sheet.csv",
        "--outdir",
        out,
        "--config",
        folder / f"tiny {HOSTILE}.yaml",
        "--models",
        "deepchrome",
        "--folds",
        "1",
        "--normalization",
        "weight",
        "--score_column",
        f"x{HOSTILE}",
        "--container",
        f"img{HOSTILE}",
        "--bedpe_anchors",
        "either",
    )
    metrics = pd.read_csv(out / "summary" / "metrics.tsv", sep="\t")
    assert len(metrics) == 2 and (metrics.status == "scored").all() and set(metrics.fold) == {1}
    markers = [p for p in tmp_path.rglob("MARKER")] + [p for p in Path.cwd().rglob("MARKER")]
    assert not markers, markers
    scripts = {p.parent.name: p.read_text() for p in (tmp_path / "work").rglob(".command.sh")}
    assert any(HOSTILE in s for s in scripts.values())  # the values did reach the scripts, quoted
    genes_script = next(s for s in scripts.values() if "chromoflow-genes" in s)
    assert f"'--gene-type' 'protein_coding' '--gene-type' 'lncRNA {HOSTILE}'" in genes_script
    assert sorted(p.name for p in (out / "datasets").iterdir()) == ["cellA.prepared.h5", "cellB.prepared.h5"]
    assert "parameter 'site_scratch' set by a config file is not one of chromoflow's" in proc.stdout + proc.stderr


def test_help_and_version_create_nothing(tmp_path):
    proc = nextflow(tmp_path, "--help")
    assert (
        "--input" in proc.stdout and "--bedpe_anchors" in proc.stdout and "--config_profile_name" not in proc.stdout
    )  # hidden
    version = nextflow(tmp_path, "--version")
    assert "chromoflow/chromoflow 0.1.0" in version.stdout
    assert not (tmp_path / "results").exists()


# ------------------------------------------------------------------ linters


def test_nextflow_lint_is_clean():
    """`nextflow lint .` of the newest working linter: no errors and no warnings in any script or config."""
    lint = tool("CHROMOFLOW_NEXTFLOW_LINT", "the Nextflow linter")
    paths = ["main.nf", "nextflow.config", "conf", "modules", "subworkflows", "workflows", "tests/nextflow"]
    proc = subprocess.run(
        [lint, "lint", *paths, "-o", "concise"],
        cwd=REPO,
        env=nextflow_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "had no errors" in out and "had 0 errors" not in out, out[-4000:]
    findings = [
        line
        for line in out.splitlines()
        if line.startswith(("main.nf", "workflows/", "modules/", "subworkflows/", "conf/", "nextflow.config", "tests/"))
    ]
    assert findings == [], "\n".join(findings)


def nf_core(*args) -> subprocess.CompletedProcess:
    bin_dir = Path(tool("CHROMOFLOW_NFCORE_BIN", "nf-core tools and MultiQC"))
    env = nextflow_env()
    env.update(NFCORE_NO_VERSION_CHECK="1", HIDE_PROGRESS="1", COLUMNS="200", TERM="dumb")
    return subprocess.run(
        [str(bin_dir / "nf-core"), "--log-file", os.devnull, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_nf_core_schema_lint_passes():
    proc = nf_core("pipelines", "schema", "lint", "nextflow_schema.json")
    out = proc.stdout + proc.stderr
    assert (
        proc.returncode == 0
        and "Pipeline schema looks valid" in out
        and "Default parameters match schema validation" in out
    ), out[-4000:]
    assert "WARNING" not in out, out[-4000:]


def test_nf_core_pipelines_lint_runs_to_the_end():
    """It runs to the end; what fails is what the README lists (resource and container parameters chromoflow keeps)."""
    proc = nf_core("pipelines", "lint", "--dir", ".")
    out = proc.stdout + proc.stderr
    assert "LINT RESULTS SUMMARY" in out, out[-4000:]
    box = (
        out.split("Pipeline Tests Failed")[-1].split("LINT RESULTS SUMMARY")[0]
        if "Pipeline Tests Failed" in out
        else ""
    )
    failed = [line.strip("│ ").strip() for line in box.splitlines()]
    failed = [f for f in failed if ": " in f]
    expected = {
        f"nextflow_config: Config variable (incorrectly) found: params.{p}"
        for p in ("container", "max_cpus", "max_memory", "max_time")
    }
    assert set(failed) == expected, out[-4000:]
