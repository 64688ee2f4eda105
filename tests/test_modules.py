"""Each Nextflow module on its own, through its stub (nf-test is not obtainable here): one launch of
tests/nextflow/modules.nf runs every module once; one test per module checks what it gives back."""

import subprocess
from pathlib import Path

import pandas as pd
import pytest
from _nextflow import REPO, module_inputs, nextflow_bin, nextflow_env

pytestmark = [pytest.mark.slow, pytest.mark.nextflow]

# module -> (the files its task leaves, relative to its work folder; whether it writes versions.yml)
EXPECTED = {
    "GENES": (["annotation.renamed.tsv"], True),  # ext.prefix from the test config
    "COVERAGE": (["cellA_H3K4me3.bw"], True),
    "PCRES": (["contacts.pcres.tsv"], True),
    "DATASET": (["cellA.h5"], True),
    "TRAIN": (
        [
            "cellA/regression/chromoformer/fold1/model.pt",
            "cellA/regression/chromoformer/fold3/heldout.tsv",
            "cellA/regression/chromoformer/fold3/metrics.json",
        ],
        True,
    ),
    "PREDICT": (["pretrained/cellA/cellA.official.predictions.tsv", "pretrained/cellA/cellA.official.info.json"], True),
    "INTERPRET": (["interpretation/fold1/effects.tsv"], True),
    "SUMMARIZE": (["metrics.tsv", "metrics_by_model.tsv", "predictions.tsv", "chromoflow_metrics_mqc.tsv"], True),
    "REPORT": (["report.html"], False),
}


@pytest.fixture(scope="module")
def tasks(tmp_path_factory) -> dict:
    nextflow = nextflow_bin()
    root = tmp_path_factory.mktemp("modules")
    module_inputs(root / "inputs")
    (root / "modules_test.config").write_text(
        "process { withName: 'GENES' { ext.prefix = { \"${meta.id}.renamed\" } } }\n"
        f"trace {{ enabled = true; overwrite = true; file = '{root}/trace.txt'; fields = 'name,status,exit,workdir' }}\n"
    )
    proc = subprocess.run(
        [
            nextflow,
            "run",
            str(REPO / "tests/nextflow/modules.nf"),
            "-c",
            str(REPO / "nextflow.config"),
            "-c",
            str(root / "modules_test.config"),
            "-profile",
            "test",
            "-stub-run",
            "--inputs",
            str(root / "inputs"),
            "--outdir",
            str(root / "out"),
        ],
        cwd=root,
        env=nextflow_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    trace = pd.read_csv(root / "trace.txt", sep="\t")
    trace["process"] = trace["name"].str.split(" ").str[0].str.split(":").str[-1]
    return {row.process: row for row in trace.itertuples()}


def test_every_module_ran(tasks):
    assert sorted(tasks) == sorted(EXPECTED)


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_module_stub(tasks, module):
    task = tasks[module]
    assert (task.status, task.exit) == ("COMPLETED", 0)
    work = Path(task.workdir)
    files, versions = EXPECTED[module]
    for name in files:
        assert (work / name).exists(), (
            f"{module}: no {name} in {sorted(p.name for p in work.rglob('*') if not p.name.startswith('.'))}"
        )
    if versions:
        text = (work / "versions.yml").read_text()
        assert text.startswith(f'"{task.name.split(" ")[0]}":') and "chromoflow: stub" in text
    script = (work / ".command.sh").read_text()
    assert "chromoflow-" not in script  # the stub ran, not the tool
