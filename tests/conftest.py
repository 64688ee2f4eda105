"""Shared fixtures: the bundled real demo data, a small simulation, and a CLI runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from chromoflow.cli import cli
from chromoflow.prep.simulate import simulate

DATA = Path(__file__).parent / "data"
DEMO = DATA / "chromoformer-demo-E003"
MARKS = ["H3K4me1", "H3K4me3", "H3K9me3", "H3K27me3", "H3K36me3", "H3K27ac", "H3K9ac"]


class Result:
    def __init__(self, result):
        self.exit_code = result.exit_code
        self.output = result.output
        self.stderr = result.stderr if hasattr(result, "stderr") else ""
        self.exception = result.exception


def run(*args) -> Result:
    """Invoke ``chromoflow ARGS`` in-process; returns exit code and outputs."""
    runner = CliRunner()
    res = runner.invoke(cli, [str(a) for a in args], catch_exceptions=True)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return Result(res)


def track_args(folder: Path, prefix: str, marks=MARKS):
    out = []
    for m in marks:
        out += ["--track", f"{m}={folder / f'{prefix}-{m}.bw'}"]
    return out


@pytest.fixture(scope="session")
def demo() -> Path:
    return DEMO


@pytest.fixture(scope="session")
def sim(tmp_path_factory) -> Path:
    """An 800-gene simulated cell-type pair (built once per test session)."""
    folder = tmp_path_factory.mktemp("sim")
    simulate(folder, n_genes=800, seed=7)
    return folder


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory, demo) -> Path:
    """The demo genes built into a chromoflow dataset through the CLI."""
    folder = tmp_path_factory.mktemp("demo")
    assert run("genes", "--bed", demo / "genes.bed", "-o", folder / "genes.tsv").exit_code == 0
    assert (
        run(
            "pcres", "--genes", folder / "genes.tsv", "--contacts", demo / "pcres.bedpe", "-o", folder / "pcres.tsv"
        ).exit_code
        == 0
    )
    res = run(
        "dataset",
        "--sample",
        "E003",
        "--genes",
        folder / "genes.tsv",
        "--pcres",
        folder / "pcres.tsv",
        *track_args(demo, "E003"),
        "--expression",
        demo / "expression.tsv",
        "-o",
        folder / "E003.h5",
        "-j",
        1,
    )
    assert res.exit_code == 0, res.output
    return folder / "E003.h5"


@pytest.fixture(scope="session")
def sim_datasets(tmp_path_factory, sim) -> dict:
    """genes/pcres (from the mcool) and both samples' datasets of the simulation."""
    folder = tmp_path_factory.mktemp("simds")
    assert run("genes", "--gtf", sim / "genes.gtf", "-o", folder / "genes.tsv").exit_code == 0
    res = run(
        "pcres",
        "--genes",
        folder / "genes.tsv",
        "--contacts",
        f"{sim}/contacts.mcool::resolutions/5000",
        "--max-distance",
        1_000_000,
        "-o",
        folder / "pcres.tsv",
    )
    assert res.exit_code == 0, res.output
    out = {"genes": folder / "genes.tsv", "pcres": folder / "pcres.tsv"}
    for sample in ("cellA", "cellB"):
        res = run(
            "dataset",
            "--sample",
            sample,
            "--genes",
            folder / "genes.tsv",
            "--pcres",
            folder / "pcres.tsv",
            *track_args(sim, sample),
            "--expression",
            sim / "expression.tsv",
            "-o",
            folder / f"{sample}.h5",
            "-j",
            1,
        )
        assert res.exit_code == 0, res.output
        out[sample] = folder / f"{sample}.h5"
    return out


def copy_demo(tmp_path: Path) -> Path:
    dst = tmp_path / "demo"
    shutil.copytree(DEMO, dst)
    return dst


def official_inputs(batch):
    """The official model's positional inputs from a chromoflow batch, padded as the official loader pads them
    (masks from lengths)."""
    import torch

    from chromoflow.data.layout import left_pad, n_bins

    length = batch.pcre_length
    dense = batch.dense_pcres()
    B, P = length.shape
    feats, pmask, pfeats, cmask, imask = {}, {}, {}, {}, {}
    n_p = (length > 0).sum(1)
    for b, x in batch.promoter.items():
        S = x.shape[1]
        feats[b] = torch.tensor(x)[:, None]
        pmask[b] = torch.zeros(B, 1, 1, S, S, dtype=torch.bool)
        pfeats[b] = torch.tensor(dense[b])
        n = n_bins(length, b)
        lp = left_pad(n, S)
        pos = np.arange(S)
        valid = (pos >= lp[..., None]) & (pos < (lp + n)[..., None]) & (length[..., None] > 0)
        cmask[b] = torch.tensor(~np.broadcast_to(valid[:, :, None, None, :], (B, P, 1, S, S)).copy())
        im = torch.ones(B, 1, P + 1, P + 1, dtype=torch.bool)
        for i in range(B):
            im[i, 0, : n_p[i] + 1, : n_p[i] + 1] = False
        imask[b] = im
    freq = torch.zeros(B, P + 1, P + 1)
    freq[:, 0, 1:] = torch.tensor(batch.pcre_score)
    return feats, pmask, pfeats, cmask, imask, freq


def official_model(kind: str = "classifier", seed: int = 0):
    """The PyPI chromoformer model with every tensor perturbed (so none is a no-op), on CPU."""
    import torch

    pytest.importorskip("chromoformer")
    from chromoformer.net import ChromoformerClassifier, ChromoformerRegressor

    model = ChromoformerClassifier() if kind == "classifier" else ChromoformerRegressor()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)
    return model.eval()


def official_forward(model, batch):
    """Run the official model on CPU: its code calls .cuda() unconditionally, made a no-op here."""
    import torch

    saved = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *a, **k: self
    try:
        with torch.no_grad():
            return model(*official_inputs(batch))
    finally:
        torch.Tensor.cuda = saved


def write_bam(path, chrom_sizes, reads):
    """Sorted, indexed BAM with (chrom, start, length, flag, mapq) reads."""
    import pysam

    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": c, "LN": n} for c, n in chrom_sizes.items()]}
    names = list(chrom_sizes)
    unsorted = str(path) + ".unsorted.bam"
    with pysam.AlignmentFile(unsorted, "wb", header=header) as out:
        for i, (chrom, start, length, flag, mapq) in enumerate(reads):
            a = pysam.AlignedSegment()
            a.query_name = f"r{i}"
            a.query_sequence = "A" * length
            a.flag = flag
            a.reference_id = names.index(chrom)
            a.reference_start = start
            a.mapping_quality = mapq
            a.cigar = [(0, length)]
            a.query_qualities = pysam.qualitystring_to_array("I" * length)
            out.write(a)
    pysam.sort("-o", str(path), unsorted)
    pysam.index(str(path))
    os.remove(unsorted)


# Fixtures that train models or build the simulation's datasets: a test using one belongs to the slow tier
# (make test), not to make test-fast.
HEAVY_FIXTURES = {"trained", "models", "sim_datasets"}


def pytest_collection_modifyitems(items):
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# ------------------------------------------------------------------ the pipeline where users run it
# Shared by the pipeline, deployment and check tests: one local -profile test run (the reference every
# container and cluster run is compared with), one Slurm cluster, the images `make image`/`make sif` built.


def _required_hpc() -> bool:
    return bool(os.environ.get("CHROMOFLOW_REQUIRE_HPC"))


def _hpc_missing(what: str):
    if _required_hpc():
        pytest.fail(f"{what} (make test installs and builds it: make hpc-tools apptainer image sif)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def test_profile_run(tmp_path_factory):
    """-profile test on the newest Nextflow with NXF_SYNTAX_PARSER=v2 (the strict syntax), into the profile's
    results-test/ (Nextflow 25.04's strict parser ignores a command-line --outdir in the config, where the run
    reports' paths are set: nextflow-io/nextflow#6363, fixed in 25.10). Returns (launch folder, outdir)."""
    from _nextflow import nextflow

    launch = tmp_path_factory.mktemp("nf-test")
    nextflow(launch, "-profile", "test", strict=True)
    return launch, launch / "results-test"


@pytest.fixture(scope="session")
def image_folder() -> Path:
    """The folder image `make image` built (CHROMOFLOW_IMAGE)."""
    path = os.environ.get("CHROMOFLOW_IMAGE")
    if not path or not (Path(path) / "opt" / "chromoflow" / "source.sha256").exists():
        _hpc_missing(f"no image folder built by 'make image' (CHROMOFLOW_IMAGE={path})")
    return Path(path)


@pytest.fixture(scope="session")
def sif_image() -> Path:
    """The SIF `make sif` built (CHROMOFLOW_SIF), and Apptainer on PATH."""
    path = os.environ.get("CHROMOFLOW_SIF")
    if not path or not Path(path).is_file():
        _hpc_missing(f"no SIF built by 'make sif' (CHROMOFLOW_SIF={path})")
    if shutil.which("apptainer") is None or shutil.which("singularity") is None:
        _hpc_missing("apptainer/singularity not on PATH (make apptainer links them into .venv/bin)")
    return Path(path)


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """A one-node Slurm cluster (tests/_slurm.py), started for the session and stopped after it."""
    from _slurm import LocalSlurm, missing_tools

    missing = missing_tools()
    if missing:
        _hpc_missing(
            f"Slurm not installed ({', '.join(missing)} not found; make hpc-tools installs slurm-wlm and munge)"
        )
    if os.geteuid() != 0:
        _hpc_missing("the one-node Slurm of the tests starts its daemons as root")
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    yield cluster
    cluster.stop()
