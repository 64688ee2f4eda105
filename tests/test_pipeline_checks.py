"""The pipeline's checks before any task, case by case, in one Nextflow launch.

``tests/nextflow/check_inputs.nf`` runs the pipeline's own ``checkInputs``
(parameters against nextflow_schema.json, the samplesheet against
assets/schema_input.json, the job plan, the container) on every case below and
the quoting of ``ext.args`` (String or Map); each test reads its case's outcome.
That a failed check stops ``nextflow run`` before any task is tested once for a
parameter and once for a samplesheet in test_pipeline.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from _nextflow import (
    MARKS,
    REPO,
    SIM,
    bare_root,
    nextflow_bin,
    nextflow_env,
    sim_rows,
    write_sheet,
)

pytestmark = [pytest.mark.slow, pytest.mark.nextflow]

HOSTILE = "$(touch MARKER)"


def bad_sheets(folder: Path) -> dict[str, tuple[Path, str]]:
    """Samplesheets with one mistake each, and the message that names it."""
    rows = sim_rows()
    sheets = {
        "missing track": (
            [r[:2] + [r[2].replace(".bw", "-missing.bw")] + r[3:] if i == 1 else r for i, r in enumerate(rows)],
            "line 3, column 'track': file not found",
        ),
        "contacts differ within a sample": (
            [r[:3] + ["other.bedpe"] + r[4:] if i == 2 else r for i, r in enumerate(rows)],
            "line 4, column 'contacts'",
        ),
        "sample name with a space": (
            [["cell A"] + r[1:] if i == 0 else r for i, r in enumerate(rows)],
            "line 2, column 'sample': 'cell A' must start with a letter or digit",
        ),
        "a mark missing": (rows[:-1], "sample 'cellB' has no track for mark(s) H3K9ac"),
        "mcool without resolution": (
            [r[:3] + [f"{SIM}/contacts.mcool"] + r[4:] for r in rows],
            "a .mcool needs a resolution",
        ),
    }
    out = {
        name: (write_sheet(folder / f"sheet{i}.csv", r), message)
        for i, (name, (r, message)) in enumerate(sheets.items())
    }
    semicolons = folder / "semicolons.csv"
    semicolons.write_text(
        ";".join(["sample", "mark", "track", "contacts", "expression"])
        + "\n"
        + "".join(";".join(r) + "\n" for r in rows)
    )
    out["';'-separated"] = (semicolons, "the samplesheet is ';'-separated")
    expr = folder / "expr.tsv"
    expr.write_text((SIM / "expression.tsv").read_text().replace("cellB", "cellC"))
    no_column = [[s, m, str(SIM / f"{s}-{m}.bw"), "", str(expr)] for s in ("cellA", "cellB") for m in MARKS]
    out["expression lacks a sample"] = (
        write_sheet(folder / "nocol.csv", no_column),
        "column 'expression': expr.tsv has no column for sample 'cellB'",
    )
    return out


def spreadsheet_sheet(folder: Path) -> Path:
    """Excel-saved (BOM, CRLF, trailing empty columns and rows), naming a featureCounts table with BAM-path columns."""
    expr = pd.read_csv(SIM / "expression.tsv", sep="\t")
    with open(folder / "counts.txt", "w") as fh:
        fh.write('# Program:featureCounts v2.0.6; Command:"featureCounts" "-o" "counts.txt"\n')
        fh.write("Geneid\tChr\tStart\tEnd\tStrand\tLength\t/data/cellA.sorted.bam\t/data/cellB.sorted.bam\n")
        for r in expr.itertuples():
            fh.write(f"{r.gene_id}\tchr1\t1\t2\t+\t1\t{r.cellA}\t{r.cellB}\n")
    lines = ["sample,mark,track,contacts,expression,,"]
    lines += [
        f"{s},{m},{SIM / f'{s}-{m}.bw'},{SIM}/contacts.mcool::resolutions/5000,{folder / 'counts.txt'},,"
        for s in ("cellA", "cellB")
        for m in MARKS
    ]
    lines += [",,,,,,", ",,,,,,"]
    path = folder / "excel.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    return path


BAD_PARAMETERS = {
    "fold outside auto": ({"folds": 5}, "--folds 5: fold(s) 5 do not exist under --fold_scheme auto"),
    "fold outside random:3": (
        {"fold_scheme": "random:3", "folds": "1,4"},
        "fold(s) 4 do not exist under --fold_scheme random:3",
    ),
    "max_pcres 0": ({"max_pcres": 0}, "--max_pcres: 0 is below the minimum 1"),
    "empty gene type": ({"gene_type": "protein_coding,,lncRNA"}, "--gene_type 'protein_coding,,lncRNA': empty item"),
    "unknown fold scheme": ({"fold_scheme": "thirds"}, "--fold_scheme: 'thirds' does not match"),
    "unknown anchors": ({"bedpe_anchors": "both"}, "--bedpe_anchors: 'both' is not one of auto, first, either"),
    "missing genes": ({"genes": "/no/such/genes.gtf"}, "--genes: /no/such/genes.gtf: file not found"),
    "genes of another format": (
        {"genes": str(SIM / "expression.tsv")},
        "expected a GTF (.gtf), GFF3 (.gff, .gff3) or BED6 (.bed) file",
    ),
    "no pretrained match": ({"pretrained": "/no/such/*.pt"}, "--pretrained: no file matches"),
    "negative seed": ({"seed": -1}, "--seed: -1 is below the minimum 0"),
    "silencing an unknown mark": (
        {"perturb_silence": "H3K99me9"},
        "--perturb_silence H3K99me9: no mark H3K99me9 in the samplesheet",
    ),
    "pretrained not a checkpoint": ({"pretrained": str(SIM / "genes.gtf")}, "genes.gtf: not a PyTorch checkpoint"),
    "folds not numbers without schema": (
        {"validate_params": False, "folds": "1,x"},
        "--folds 1,x: 'x' is not a fold number",
    ),
    "unknown model": ({"models": "chromoformer,bert"}, "--models: 'chromoformer,bert' does not match"),
    "epochs not a number": ({"epochs": "many"}, "--epochs: expected integer, got 'many'"),
    "unknown pair sample": ({"tasks": "fold-change", "pairs": "cellA:cellC"}, "--pairs: unknown sample 'cellC'"),
    "missing YAML config": ({"config": "/no/such/train.yaml"}, "--config /no/such/train.yaml: file not found"),
}


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checks")
    base = {"input": str(SIM / "samplesheet.csv"), "genes": str(SIM / "genes.gtf")}
    sheets = bad_sheets(folder)
    inputs = [
        {"name": "test profile", "params": base},
        {"name": "folds_per_task 1", "params": {**base, "folds_per_task": 1}},
        {"name": "one fold as a number", "params": {**base, "folds": 1}},
        {
            "name": "fold change pair",
            "params": {
                **base,
                "tasks": "classification,fold-change",
                "pairs": "cellA:cellB",
                "models": "chromoformer",
                "folds": "2",
            },
        },
        {
            "name": "fold change, every pair",
            "params": {**base, "tasks": "fold-change", "models": "deepchrome", "folds": "1"},
        },
        {
            "name": "marks reordered",
            "params": {**base, "marks": "H3K27ac,H3K4me3,H3K4me1,H3K9me3,H3K27me3,H3K36me3,H3K9ac"},
        },
        {
            "name": "spreadsheet",
            "params": {**base, "input": str(spreadsheet_sheet(folder)), "models": "deepchrome", "folds": 1},
        },
        {
            "name": "unknown on the command line",
            "params": {**base, "fold_shceme": "chrom:4"},
            "command_line": "nextflow run . -profile test --fold_shceme chrom:4",
        },
        {
            "name": "unknown from a config file",
            "params": {**base, "cluster_queue_name": "gpu"},
            "command_line": "nextflow run . -profile test -c site.config",
        },
        {
            "name": "institutional config",
            "params": {
                **base,
                "config_profile_description": "Site cluster",
                "config_profile_contact": "admin@example.org",
                "config_profile_url": "https://example.org",
                "config_profile_name": "site",
                "custom_config_base": "/nowhere",
            },
        },
        {"name": "docker, local tag", "params": {**base, "container": "chromoflow:0.1.0"}, "engine": "docker"},
        {
            "name": "docker, registry URI",
            "params": {**base, "container": "ghcr.io/example/chromoflow:0.1.0"},
            "engine": "docker",
        },
        {
            "name": "singularity, local tag",
            "params": {**base, "container": "chromoflow:0.1.0"},
            "engine": "singularity",
        },
    ]
    inputs += [{"name": f"sheet: {name}", "params": {**base, "input": str(path)}} for name, (path, _) in sheets.items()]
    inputs += [
        {
            "name": f"param: {name}",
            "params": {**base, **extra},
            "command_line": "nextflow run . " + " ".join(f"--{k} {v}" for k, v in extra.items()),
        }
        for name, (extra, _) in BAD_PARAMETERS.items()
    ]
    ext_args = [
        "--gene-type lncRNA",
        f"--gene-type 'protein_coding,{HOSTILE}' --score-column \"a b\" --flag",
        {
            "--gene-type": ["lncRNA", f"x{HOSTILE}'q"],
            "--no-balance": True,
            "--unset": None,
            "--off": False,
            "--min-count": 5,
        },
        ["--window", "40000"],
    ]
    (folder / "cases.json").write_text(json.dumps({"inputs": inputs, "ext_args": ext_args}))
    results = run_checks(folder, strict=False)
    return (
        {r["name"]: r for r in results["inputs"]},
        dict(zip(map(json.dumps, ext_args), results["ext_args"])),
        sheets,
        folder,
        results,
    )


def run_checks(folder: Path, strict: bool) -> dict:
    """tests/nextflow/check_inputs.nf on folder/cases.json, on the pinned or the strict Nextflow."""
    name = "strict.json" if strict else "results.json"
    proc = subprocess.run(
        [
            nextflow_bin(strict),
            "run",
            str(REPO / "tests" / "nextflow" / "check_inputs.nf"),
            "-c",
            str(REPO / "nextflow.config"),
            "-profile",
            "test",
            "--cases",
            str(folder / "cases.json"),
            "--results",
            str(folder / name),
            "--repo",
            str(REPO),
        ],
        cwd=folder,
        env=nextflow_env(strict),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return json.loads((folder / name).read_text())


def test_the_strict_parser_gives_the_same_outcomes(checks):
    """Every case and every ext.args, on the newest Nextflow under NXF_SYNTAX_PARSER=v2: the same outcome."""
    folder, results = checks[3], checks[4]
    assert run_checks(folder, strict=True) == results


def test_the_test_profile_plans_one_task_per_sample_and_model(checks):
    """The test profile trains each sample x model's four folds in one task (--folds_per_task 0)."""
    case = checks[0]["test profile"]
    assert (
        case["errors"] == []
        and case["warnings"] == []
        and case["samples"] == ["cellA", "cellB"]
        and case["marks"] == MARKS
    )
    assert len(case["jobs"]) == 2 * 3 and all(j["folds"] == [1, 2, 3, 4] for j in case["jobs"])
    assert "cellA.classification.deepchrome.folds1-2-3-4" in {j["id"] for j in case["jobs"]}


def test_folds_per_task_1_plans_one_task_per_fold(checks):
    jobs = checks[0]["folds_per_task 1"]["jobs"]
    assert len(jobs) == 2 * 3 * 4 and all(len(j["folds"]) == 1 for j in jobs)
    assert "cellB.classification.attentivechrome.fold3" in {j["id"] for j in jobs}
    assert [j["folds"] for j in checks[0]["one fold as a number"]["jobs"]] == [[1]] * 6


def test_fold_change_jobs_name_both_samples(checks):
    jobs = checks[0]["fold change pair"]["jobs"]
    assert {j["id"] for j in jobs} == {
        "cellA.classification.chromoformer.fold2",
        "cellB.classification.chromoformer.fold2",
        "cellA_vs_cellB.fold-change.chromoformer.fold2",
    }
    fc = next(j for j in jobs if j["label"] == "cellA_vs_cellB")
    assert fc["sample"] == "cellA" and fc["reference"] == "cellB"
    assert [j["id"] for j in checks[0]["fold change, every pair"]["jobs"]] == [
        "cellA_vs_cellB.fold-change.deepchrome.fold1"
    ]


def test_marks_follow_the_marks_parameter(checks):
    assert checks[0]["marks reordered"]["marks"][:2] == ["H3K27ac", "H3K4me3"]


def test_spreadsheet_samplesheet_with_feature_counts_table(checks):
    case = checks[0]["spreadsheet"]
    assert case["errors"] == [] and case["samples"] == ["cellA", "cellB"] and len(case["jobs"]) == 2


def test_unknown_parameters(checks):
    typed = checks[0]["unknown on the command line"]
    assert any("--fold_shceme: unknown parameter" in e for e in typed["errors"])
    from_config = checks[0]["unknown from a config file"]
    assert from_config["errors"] == [] and any(
        "'cluster_queue_name' set by a config file" in w for w in from_config["warnings"]
    )


def test_institutional_config_parameters_are_accepted(checks):
    case = checks[0]["institutional config"]
    assert case["errors"] == [] and case["warnings"] == []


def test_container_checks_say_how_to_get_the_image(checks):
    docker = checks[0]["docker, local tag"]["errors"]
    if shutil.which("docker") is None:
        assert any(
            "is a local tag and docker is not available on this machine" in e
            and "--container REGISTRY/chromoflow:0.1.0" in e
            for e in docker
        ), docker
    else:
        assert docker == [] or any("docker build -t chromoflow:0.1.0" in e for e in docker)
    assert checks[0]["docker, registry URI"]["errors"] == []
    assert any(
        "singularity cannot pull the local tag chromoflow:0.1.0" in e
        for e in checks[0]["singularity, local tag"]["errors"]
    )
    # Singularity/Apptainer and Charliecloud images: test_runtime_problems_are_named_before_any_task.


@pytest.mark.parametrize(
    "name",
    [
        "missing track",
        "contacts differ within a sample",
        "sample name with a space",
        "a mark missing",
        "mcool without resolution",
        "';'-separated",
        "expression lacks a sample",
    ],
)
def test_bad_samplesheets(checks, name):
    case = checks[0][f"sheet: {name}"]
    message = checks[2][name][1]
    assert any(message in e for e in case["errors"]), case["errors"]
    assert case["jobs"] == []


@pytest.mark.parametrize("name", list(BAD_PARAMETERS))
def test_bad_parameters(checks, name):
    errors = checks[0][f"param: {name}"]["errors"]
    assert any(BAD_PARAMETERS[name][1] in e for e in errors), errors


def run_words(options: str, cwd: Path) -> list[str]:
    """The words bash gives a command for these options (as a task script would), run in ``cwd``."""
    proc = subprocess.run(
        ["bash", "-c", f"printf '%s\\n' {options}"], cwd=cwd, capture_output=True, text=True, check=True
    )
    return proc.stdout.splitlines()


@pytest.mark.parametrize(
    "ext_args, words",
    [
        ("--gene-type lncRNA", ["--gene-type", "lncRNA"]),
        (
            f"--gene-type 'protein_coding,{HOSTILE}' --score-column \"a b\" --flag",
            ["--gene-type", f"protein_coding,{HOSTILE}", "--score-column", "a b", "--flag"],
        ),
        (
            {
                "--gene-type": ["lncRNA", f"x{HOSTILE}'q"],
                "--no-balance": True,
                "--unset": None,
                "--off": False,
                "--min-count": 5,
            },
            ["--gene-type", "lncRNA", "--gene-type", f"x{HOSTILE}'q", "--no-balance", "--min-count", "5"],
        ),
        (["--window", "40000"], ["--window", "40000"]),
    ],
)
def test_ext_args_string_or_map_reach_the_script_quoted(checks, tmp_path, ext_args, words):
    options = checks[1][json.dumps(ext_args)]
    assert run_words(options, tmp_path) == words
    assert not (tmp_path / "MARKER").exists()


# ------------------------------------------------------------------ where the tasks run


@pytest.fixture(scope="module")
def runtime_checks(tmp_path_factory, slurm, image_folder, sif_image):
    """The runtime checks (runtime.nf) on every case in one launch: missing programs, bad images, what Slurm refuses."""
    folder = tmp_path_factory.mktemp("runtime-checks")
    base = {"input": str(SIM / "samplesheet.csv"), "genes": str(SIM / "genes.gtf")}
    bare = bare_root(folder)
    bare_sif = folder / "bare.sif"
    proc = subprocess.run(["apptainer", "build", str(bare_sif), str(bare)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder / "text.sif").write_text("not an image\n")
    nowhere = {"PATH": "/nonexistent"}
    on_slurm = {"SLURM_CONF": str(slurm.conf)}

    def case(name, engine="", profiles=(), env=None, **params):
        return {
            "name": name,
            "engine": engine,
            "profiles": list(profiles),
            "env": env or {},
            "params": {**base, **params},
        }

    inputs = [
        case("charliecloud: no ch-run", "charliecloud", env=nowhere, container=str(image_folder)),
        case("apptainer: no apptainer", "apptainer", env=nowhere, container=str(sif_image)),
        case("singularity: no singularity", "singularity", env=nowhere, container=str(sif_image)),
        case("charliecloud: missing folder", "charliecloud", container="/no/such/image"),
        case("charliecloud: relative folder", "charliecloud", container="chromoflow:0.1.0"),
        case("charliecloud: no chromoflow", "charliecloud", container=str(bare)),
        case("charliecloud: the built image", "charliecloud", container=str(image_folder)),
        case("apptainer: missing SIF", "apptainer", container="/no/such/chromoflow.sif"),
        case("apptainer: not a SIF", "apptainer", container=str(folder / "text.sif")),
        case("apptainer: no chromoflow", "apptainer", container=str(bare_sif)),
        case("singularity: local tag", "singularity", container="chromoflow:0.1.0"),
        case("apptainer: registry URI", "apptainer", container="docker://ghcr.io/example/chromoflow:0.1.0"),
        case("apptainer: the built SIF", "apptainer", container=str(sif_image)),
        case("singularity: the built SIF", "singularity", container=str(sif_image)),
        case("slurm: no sbatch", profiles=["test", "slurm"], env=nowhere),
        case("slurm: unknown partition", profiles=["test", "slurm"], env=on_slurm, slurm_queue="nope"),
        case("slurm: too much memory", profiles=["test", "slurm"], env=on_slurm, max_memory="10.TB"),
        case("slurm: too many CPUs", profiles=["test", "slurm"], env=on_slurm, max_cpus=512),
        case("slurm: unknown GPU partition", profiles=["test", "gpu", "slurm"], env=on_slurm, gpu_queue="nope"),
        case("slurm: GPU partition", profiles=["test", "gpu", "slurm"], env=on_slurm, gpu_queue="gpu"),
        case("slurm: default partition", profiles=["test", "slurm"], env=on_slurm),
        case("slurm: checks skipped", profiles=["test", "slurm"], env=nowhere, validate_params=False),
        case("google: local tag", profiles=["gpu", "google"], container="chromoflow:0.1.0"),
        case("google: registry image", profiles=["gpu", "google"], container="ghcr.io/example/chromoflow:0.1.0"),
        case("awsbatch: local tag", profiles=["awsbatch"], container="chromoflow:0.1.0"),
    ]
    (folder / "cases.json").write_text(json.dumps({"inputs": inputs, "ext_args": []}))
    results = run_checks(folder, strict=False)
    return {r["name"]: r["errors"] for r in results["inputs"]}


RUNTIME_CASES = {
    "charliecloud: no ch-run": "-profile charliecloud: 'ch-run' is not on PATH: install Charliecloud (Debian/Ubuntu: apt-get install charliecloud",
    "apptainer: no apptainer": "-profile apptainer: 'apptainer' is not on PATH: install Apptainer (here: 'make apptainer'",
    "singularity: no singularity": "-profile singularity: 'singularity' is not on PATH: install Apptainer or SingularityCE",
    "charliecloud: missing folder": "-profile charliecloud: the image folder /no/such/image does not exist: build it with 'make image'",
    "charliecloud: relative folder": "-profile charliecloud: --container chromoflow:0.1.0: give the absolute path of an image folder",
    "charliecloud: no chromoflow": "cannot run chromoflow (ch-run ",
    "apptainer: missing SIF": "-profile apptainer: the container image /no/such/chromoflow.sif does not exist: build it with 'make sif'",
    "apptainer: not a SIF": "text.sif is not a Singularity/Apptainer image file (SIF): build it with 'make sif'",
    "apptainer: no chromoflow": "bare.sif cannot run chromoflow (apptainer exec ",
    "singularity: local tag": "singularity cannot pull the local tag chromoflow:0.1.0: build it with 'make sif'",
    "slurm: no sbatch": "-profile slurm: 'sbatch' is not on PATH: run the pipeline where Slurm's commands are",
    "slurm: unknown partition": (
        "-profile slurm: Slurm refuses a task's largest request in partition 'nope' (2 CPUs, 6.GB, 1.h): "
        "Invalid partition name specified; set --slurm_queue to one of the cluster's partitions"
    ),
    "slurm: too much memory": (
        "-profile slurm: Slurm refuses a task's largest request in the default partition (2 CPUs, 10.TB, 1.h): "
        "Requested node configuration is not available; lower --max_cpus/--max_memory/--max_time"
    ),
    "slurm: too many CPUs": "-profile slurm: Slurm refuses a task's largest request in the default partition (512 CPUs, 6.GB, 1.h)",
    "slurm: unknown GPU partition": "Slurm refuses a GPU task's largest request in partition 'nope' (2 CPUs, 6.GB, 1.h, 1 GPU): Invalid partition name specified; set --gpu_queue",
    "google: local tag": "-profile google: --container chromoflow:0.1.0: cloud batch pulls every task's image from a registry",
    "awsbatch: local tag": "-profile awsbatch: --container chromoflow:0.1.0: cloud batch pulls",
}


@pytest.mark.parametrize("name", sorted(RUNTIME_CASES))
def test_runtime_problems_are_named_before_any_task(runtime_checks, name):
    errors = runtime_checks[name]
    assert len(errors) == 1 and RUNTIME_CASES[name] in errors[0], errors


@pytest.mark.parametrize(
    "name",
    [
        "charliecloud: the built image",
        "apptainer: the built SIF",
        "singularity: the built SIF",
        "apptainer: registry URI",
        "slurm: GPU partition",
        "slurm: default partition",
        "slurm: checks skipped",
        "google: registry image",
    ],
)
def test_a_usable_runtime_passes_the_checks(runtime_checks, name):
    assert runtime_checks[name] == []


def test_apptainer_check_runs_the_image_as_the_profile_does():
    """The check's `apptainer exec` options are the apptainer/singularity profiles' runOptions."""
    config = (REPO / "nextflow.config").read_text()
    runtime = (REPO / "subworkflows/local/utils_chromoflow/runtime.nf").read_text()
    options = re.search(r"def apptainerRunOptions\(\) \{\s*return \[(.*?)\]", runtime).group(1)
    expected = " ".join(o.strip().strip("'") for o in options.split(","))
    assert f"apptainer.runOptions   = '{expected}'" in config and f"singularity.runOptions = '{expected}'" in config
