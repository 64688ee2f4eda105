"""The pipeline where users run it, for real: every task inside the image built from this repository
(``make image``: a folder that Charliecloud's ch-run runs; ``make sif``: the same root as the SIF that
Apptainer and Singularity run), on a real one-node Slurm (tests/_slurm.py: munge, slurmctld and slurmd
started by the session), and both together, as HPC users run it. Every run's results equal the local
``-profile test`` run (conftest's test_profile_run): byte for byte, but for measured times, the report's
date and the parameters naming where it ran (_nextflow.assert_same_results).

Faults: a Slurm job cancelled while it runs and a task killed inside its container are retried and the
run completes; the head ``nextflow`` killed mid-run completes with ``-resume``, its finished tasks cached.
Docker and Podman cannot run containers here (README, Containers): their GPU options are read from the
``.command.run`` Nextflow generates, as every engine's are. The checks that stop a run before any task
(missing runtime, bad image, a Slurm that refuses the run's jobs) are in test_pipeline_checks.py; one
of them is run end to end here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from _nextflow import (
    REPO,
    assert_same_results,
    bare_root,
    module_inputs,
    nextflow,
    nextflow_bin,
    nextflow_env,
    task_dirs,
    trace,
)

pytestmark = [pytest.mark.slow, pytest.mark.nextflow]

GPU_PROCESSES = ("TRAIN", "PREDICT", "INTERPRET")  # label process_gpu
TEST_TASKS = 20  # GENES, PCRES, 2 DATASET, 6 TRAIN (4 folds each), 8 INTERPRET, SUMMARIZE, REPORT


def process_of(task_name: str) -> str:
    return task_name.split(" ")[0].split(":")[-1]


def launcher(task_dir: Path) -> str:
    """The line of .command.run that starts the task's script (inside the container when there is one)."""
    text = (task_dir / ".command.run").read_text()
    body = text.split("nxf_launch() {", 1)[1].split("\n}", 1)[0]
    return " ".join(body.split())


def sbatch_options(task_dir: Path) -> list[str]:
    return [
        line[len("#SBATCH ") :]
        for line in (task_dir / ".command.run").read_text().splitlines()
        if line.startswith("#SBATCH ")
    ]


def image_tree(root: Path) -> dict[str, tuple]:
    """Every path of an image folder with its type, size and modification time."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            tree[os.path.relpath(p, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return tree


class Background:
    """`nextflow run` in the background, so that a test can act on the run while it goes on."""

    def __init__(self, launch: Path, *args, env: dict | None = None):
        launch.mkdir(parents=True, exist_ok=True)
        self.log = open(launch / "nextflow.out", "w")
        self.proc = subprocess.Popen(
            [nextflow_bin(), "run", str(REPO), *map(str, args)],
            cwd=launch,
            env=env or nextflow_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_for(self, what: str, ready, timeout: float = 600):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            value = ready()
            if value:
                return value
            if self.proc.poll() is not None:
                raise AssertionError(f"nextflow ended ({self.proc.returncode}) before {what}")
            time.sleep(0.5)
        raise AssertionError(f"no {what} within {timeout:.0f} s")

    def finish(self, timeout: float = 1200) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.log.close()


def trace_rows(outdir: Path) -> pd.DataFrame:
    """The trace written so far (Nextflow appends a row as each task ends)."""
    files = sorted((outdir / "pipeline_info").glob("trace_*.txt"))
    if not files:
        return pd.DataFrame(columns=["name", "status", "attempt", "exit", "native_id"])
    try:
        return pd.read_csv(files[-1], sep="\t")
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return pd.DataFrame(columns=["name", "status", "attempt", "exit", "native_id"])


def runs_through(line: str, runtime: str) -> bool:
    """Whether a launcher line starts the task with `runtime` (Apptainer's follows an `env - ...` prefix)."""
    return re.search(rf"(?:^|\s){re.escape(runtime)}\s", line) is not None


def assert_every_task_in(launch: Path, outdir: Path, runtime: str, image: Path) -> list[tuple[str, Path]]:
    """Each task of the run started its script through `runtime` on `image`; returns (name, task folder)s."""
    dirs = task_dirs(launch, outdir)
    assert dirs, "no task ran"
    for name, folder in dirs:
        line = launcher(folder)
        assert runs_through(line, runtime) and str(image) in line, (name, line)
    return dirs


# ------------------------------------------------------------------ Charliecloud


@pytest.fixture(scope="module")
def charliecloud_run(tmp_path_factory, image_folder):
    launch = tmp_path_factory.mktemp("charliecloud")
    before = image_tree(image_folder)
    nextflow(launch, "-profile", "test,charliecloud", "--container", image_folder, "--outdir", launch / "results")
    return launch, launch / "results", before


def bind_mounts(line: str) -> set[str]:
    return set(re.findall(r"(?:^| )-b (\S+)", line))


def test_charliecloud_runs_every_task_in_the_image(charliecloud_run, image_folder):
    launch, out, _ = charliecloud_run
    dirs = assert_every_task_in(launch, out, "ch-run", image_folder)
    assert len(dirs) == TEST_TASKS
    for name, folder in dirs:
        line = launcher(folder)
        # Nextflow 24.10 with Charliecloud 0.31: the image's environment (/ch/environment), the image read-write
        # (-w: no --write-fake before 0.32), the task's folder (or one above it) bound.
        assert "--set-env" in line and " -w " in line, (name, line)
        assert any(str(folder).startswith(m) for m in bind_mounts(line)), (name, line)


def test_charliecloud_results_equal_the_local_run(charliecloud_run, test_profile_run):
    _, out, _ = charliecloud_run
    assert assert_same_results(test_profile_run[1], out) > 200


def test_charliecloud_writes_only_mount_points_into_the_image(charliecloud_run, image_folder):
    """ch-run -w (Charliecloud 0.31) creates the bind mounts' destinations in the image; nothing else changes."""
    launch, out, before = charliecloud_run
    after = image_tree(image_folder)
    mounts = set().union(*(bind_mounts(launcher(folder)) for _, folder in task_dirs(launch, out)))
    # A destination and its parents may appear as empty folders; a folder that gained one changes its mtime.
    allowed = {os.path.relpath(p, "/") for m in mounts for p in [m, *map(str, Path(m).parents)] if p != "/"}
    added = set(after) - set(before)
    changed = {p for p in before.keys() & after.keys() if before[p] != after[p]}
    assert added <= allowed, sorted(added - allowed)[:10]
    assert all(
        (image_folder / p).is_dir() and not any(f.is_file() for f in (image_folder / p).rglob("*")) for p in added
    )
    assert changed <= allowed | {"."}, sorted(changed - allowed)[:10]
    assert not set(before) - set(after)


# ------------------------------------------------------------------ Apptainer / Singularity


def kill_a_training_inside_the_container(run: Background, out: Path) -> str:
    """SIGKILL the Python of a running TRAIN task (inside its container); returns the task's name."""

    def running_train():
        found = subprocess.run(
            ["pgrep", "-f", "chromoflow-train --dataset"], capture_output=True, text=True
        ).stdout.split()
        return found[0] if found else None

    pid = run.wait_for("a running TRAIN task", running_train)
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    os.kill(int(pid), signal.SIGKILL)
    return cmdline


@pytest.fixture(scope="module")
def apptainer_run(tmp_path_factory, sif_image):
    """-profile test,apptainer with the default image (the SIF under CHROMOFLOW_IMAGES); one training task is
    killed inside its container while it runs."""
    launch = tmp_path_factory.mktemp("apptainer")
    env = nextflow_env() | {"CHROMOFLOW_IMAGES": str(sif_image.parent)}
    out = launch / "results"
    run = Background(launch, "-profile", "test,apptainer", "--outdir", out, env=env)
    killed = kill_a_training_inside_the_container(run, out)
    assert run.finish() == 0, (launch / "nextflow.out").read_text()[-3000:]
    return launch, out, killed


def test_apptainer_runs_every_task_in_the_sif(apptainer_run, sif_image):
    launch, out, _ = apptainer_run
    dirs = assert_every_task_in(launch, out, "apptainer exec", sif_image)
    assert len(dirs) == TEST_TASKS + 1  # and the killed task's second attempt
    assert all("--no-privs" in launcher(d) and "--nv" not in launcher(d) for _, d in dirs)


def test_a_task_killed_inside_the_container_is_retried(apptainer_run):
    _, out, killed = apptainer_run
    t = trace(out)
    failed = t[t.status == "FAILED"]
    assert len(failed) == 1 and failed.exit.iloc[0] == 137 and process_of(failed.name.iloc[0]) == "TRAIN", t
    retried = t[(t.name == failed.name.iloc[0]) & (t.status == "COMPLETED")]
    assert list(retried.attempt) == [2]
    assert "chromoflow-train" in killed


def test_apptainer_results_equal_the_local_run(apptainer_run, test_profile_run):
    assert assert_same_results(test_profile_run[1], apptainer_run[1]) > 200


def test_singularity_profile_runs_in_the_sif(tmp_path, sif_image, test_profile_run):
    env = nextflow_env() | {"CHROMOFLOW_IMAGES": str(sif_image.parent)}
    out = tmp_path / "results"
    proc = subprocess.run(
        [nextflow_bin(), "run", str(REPO), "-profile", "test,singularity", "--outdir", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert len(assert_every_task_in(tmp_path, out, "singularity exec", sif_image)) == TEST_TASKS
    assert_same_results(test_profile_run[1], out)


# ------------------------------------------------------------------ Slurm


def slurm_env(slurm, **extra) -> dict:
    """The cluster's SLURM_CONF, and Slurm's commands (some in /usr/sbin) on PATH."""
    return {"SLURM_CONF": str(slurm.conf), "PATH": nextflow_env()["PATH"] + ":/usr/sbin:/sbin", **extra}


def assert_slurm_jobs(slurm, launch: Path, out: Path) -> list[tuple[str, Path]]:
    """Every task of the newest run was a Slurm job that ran to its end (the job completion log knows it)."""
    t = trace(out)
    jobs = slurm.completed_jobs()
    ran = t[t.status != "CACHED"]
    assert len(ran) and ran.native_id.astype(str).str.fullmatch(r"\d+").all(), ran.native_id
    for row in ran.itertuples():
        job = jobs.get(str(row.native_id))
        assert job is not None, f"{row.name}: job {row.native_id} is not in Slurm's job completion log"
        assert job["JobState"] == ("COMPLETED" if row.status == "COMPLETED" else job["JobState"]), job
        assert job["WorkDir"] == str(next(iter((launch / "work").glob(f"{row.hash}*")))), job
    return task_dirs(launch, out)


@pytest.fixture(scope="module")
def slurm_gpu_run(tmp_path_factory, slurm):
    """-profile test,gpu,slurm --device cpu: GPU tasks ask Slurm for a GPU on partition 'gpu'. A running TRAIN
    job is cancelled (scancel; retried), then the head nextflow is killed, and the run is resumed."""
    launch = tmp_path_factory.mktemp("slurm-gpu")
    out = launch / "results"
    args = ("-profile", "test,gpu,slurm", "--device", "cpu", "--gpu_queue", "gpu", "--outdir", out)
    env = slurm_env(slurm)
    run = Background(launch, *args, env=nextflow_env() | env)
    job, name = run.wait_for(
        "a running TRAIN job", lambda: next((j for j in slurm.running_jobs() if "TRAIN" in j[1]), None)
    )
    time.sleep(2)  # well into its script
    subprocess.run(["scancel", job], env=slurm.env(), check=True)

    def retried_and_done():
        t = trace_rows(out)
        done = t[t.status == "COMPLETED"]
        return len(done) >= 6 and (done.attempt == 2).any()

    run.wait_for("the cancelled task's retry and a few more tasks", retried_and_done)
    run.proc.kill()  # the head node goes away; its jobs go on
    run.finish()
    first = trace_rows(out)  # what the killed run recorded
    nextflow(launch, *args, "-resume", env=env)
    return launch, out, first, job


def test_slurm_runs_every_task_as_a_job(slurm_gpu_run, slurm):
    launch, out, _, _ = slurm_gpu_run
    dirs = assert_slurm_jobs(slurm, launch, out)
    for name, folder in dirs:
        opts = sbatch_options(folder)
        # The resource labels (here the test profile's: 1 CPU, 2 GB, 1 h) as sbatch options.
        assert "--mem 2048M" in opts and "-t 01:00:00" in opts, (name, opts)
        if process_of(name) in GPU_PROCESSES:
            assert "--gres=gpu:1" in opts and "-p gpu" in opts, (name, opts)
            assert slurm.completed_jobs()[str(trace(out).set_index("name").native_id[name])]["Partition"] == "gpu"
        else:
            assert not any("gres" in o for o in opts) and not any(o.startswith("-p ") for o in opts), (name, opts)


def test_a_cancelled_job_is_retried(slurm_gpu_run, slurm):
    _, _, first, job = slurm_gpu_run
    cancelled = first[first.native_id.astype(str) == job]
    assert len(cancelled) == 1 and cancelled.status.iloc[0] == "FAILED" and cancelled.exit.iloc[0] == 143, first
    again = first[(first.name == cancelled.name.iloc[0]) & (first.status == "COMPLETED")]
    assert list(again.attempt) == [2]
    assert slurm.completed_jobs()[job]["JobState"] == "CANCELLED"


def test_resume_after_the_head_was_killed_caches_finished_tasks(slurm_gpu_run):
    _, out, first, _ = slurm_gpu_run
    t = trace(out)
    done_before = set(first[first.status == "COMPLETED"].name)
    assert set(t[t.status == "CACHED"].name) == done_before
    assert set(t.name) == set(first[first.status == "COMPLETED"].name) | set(t[t.status == "COMPLETED"].name)
    assert len(set(t.name)) == TEST_TASKS and t.status.isin(["CACHED", "COMPLETED"]).all()


def test_slurm_results_equal_the_local_run(slurm_gpu_run, test_profile_run):
    assert_same_results(test_profile_run[1], slurm_gpu_run[1])


def test_slurm_with_charliecloud(tmp_path, slurm, image_folder, test_profile_run):
    """The usual HPC invocation with the folder image: every task a Slurm job running ch-run; no GPU asked for."""
    out = tmp_path / "results"
    nextflow(
        tmp_path,
        "-profile",
        "test,slurm,charliecloud",
        "--container",
        image_folder,
        "--outdir",
        out,
        env=slurm_env(slurm),
    )
    dirs = assert_slurm_jobs(slurm, tmp_path, out)
    assert len(dirs) == TEST_TASKS
    for name, folder in dirs:
        assert runs_through(launcher(folder), "ch-run") and not any("gres" in o for o in sbatch_options(folder)), name
    assert_same_results(test_profile_run[1], out)


def test_slurm_with_singularity(tmp_path, slurm, sif_image, test_profile_run):
    """nextflow run . -profile singularity,slurm (the default SIF): every task a Slurm job inside the SIF."""
    out = tmp_path / "results"
    env = slurm_env(slurm, CHROMOFLOW_IMAGES=str(sif_image.parent))
    nextflow(tmp_path, "-profile", "test,slurm,singularity", "--outdir", out, env=env)
    dirs = assert_slurm_jobs(slurm, tmp_path, out)
    assert all(runs_through(launcher(d), "singularity exec") and str(sif_image) in launcher(d) for _, d in dirs)
    assert_same_results(test_profile_run[1], out)


# ------------------------------------------------------------------ GPU options of every engine

ENGINE_GPU_OPTION = {
    "docker": "--gpus all",
    "podman": "--device nvidia.com/gpu=all",
    "apptainer": "--nv",
    "singularity": "--nv",
    "charliecloud": None,  # the image carries the host's driver libraries (ch-fromhost --nvidia)
}


RUNS_HERE = ("charliecloud", "apptainer", "singularity")


@pytest.fixture(scope="module")
def gpu_launches(tmp_path_factory, image_folder, sif_image) -> dict:
    """tests/nextflow/modules.nf (each module once) under -profile test,gpu,<engine>. The engines that run here run
    the stubs inside the image; Docker and Podman get the modules' real scripts and fail to start them (Podman on
    a small imported image, so that its own error shows) after Nextflow wrote their .command.run.
    Returns {engine: {process: (task folder, status)}}."""
    found = {}
    for engine in ENGINE_GPU_OPTION:
        root = tmp_path_factory.mktemp(f"gpu-{engine}")
        module_inputs(root / "inputs")
        image = {"charliecloud": image_folder, "apptainer": sif_image, "singularity": sif_image}.get(engine)
        if engine == "podman":
            image = "localhost/chromoflow-bare:test"
            tar = subprocess.Popen(["tar", "-C", str(bare_root(root)), "-c", "."], stdout=subprocess.PIPE)
            imported = subprocess.run(
                ["podman", "import", "-", image], stdin=tar.stdout, capture_output=True, text=True
            )
            tar.wait()
            assert imported.returncode == 0, imported.stderr
        (root / "launch.config").write_text(
            "process.errorStrategy = 'ignore'\n"
            f"trace {{ enabled = true; overwrite = true; file = '{root}/trace.txt'; fields = 'name,status,exit,workdir' }}\n"
        )
        proc = subprocess.run(
            [
                nextflow_bin(),
                "run",
                str(REPO / "tests/nextflow/modules.nf"),
                "-c",
                str(REPO / "nextflow.config"),
                "-c",
                str(root / "launch.config"),
                "-profile",
                f"test,gpu,{engine}",
                *(["-stub-run"] if engine in RUNS_HERE else []),
                "--container",
                str(image or "chromoflow:0.1.0"),
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
        if engine == "podman":
            subprocess.run(["podman", "rmi", "-f", image], capture_output=True)
        assert proc.returncode == 0, (engine, proc.stdout[-3000:])
        t = pd.read_csv(root / "trace.txt", sep="\t")
        found[engine] = {process_of(n): (Path(w), s) for n, w, s in zip(t.name, t.workdir, t.status)}
    return found


@pytest.mark.parametrize("engine", sorted(ENGINE_GPU_OPTION))
def test_gpu_options_reach_the_gpu_tasks_only(gpu_launches, engine):
    tasks = gpu_launches[engine]
    assert len(tasks) == 9
    option = ENGINE_GPU_OPTION[engine]
    runtime = {"charliecloud": "ch-run", "apptainer": "apptainer exec", "singularity": "singularity exec"}.get(
        engine, f"{engine} run"
    )
    for process, (folder, status) in tasks.items():
        line = launcher(folder)
        assert runs_through(line, runtime), (process, line)
        if engine == "docker":
            assert "-u $(id -u):$(id -g)" in line  # as the calling user
        if engine in ("docker", "podman"):
            # The real scripts: the tool's own device option on the GPU tasks only (-profile gpu: --device cuda).
            script = (folder / ".command.sh").read_text()
            assert ("'--device' 'cuda'" in script) == (process in GPU_PROCESSES), (process, script)
        if option is not None:
            assert (option in line) == (process in GPU_PROCESSES), (process, line)
        # Engines that run here ran the stubs inside the image; Docker and Podman could not start the tasks.
        assert status == ("COMPLETED" if engine in RUNS_HERE else "FAILED"), (process, status)


# Why Docker and Podman cannot run a container here (the README's container section quotes these).
ENGINE_ERRORS = {
    "docker": "Cannot connect to the Docker daemon at unix:///var/run/docker.sock",
    "podman": "error setting rlimit type 7: operation not permitted",  # runc, as Podman 4.3 here runs it
}


@pytest.mark.parametrize("engine", sorted(ENGINE_ERRORS))
def test_docker_and_podman_cannot_run_here(gpu_launches, engine):
    folder, _ = gpu_launches[engine]["GENES"]
    err = (folder / ".command.err").read_text() + (folder / ".command.log").read_text()
    assert ENGINE_ERRORS[engine] in err, err[-2000:]


# ------------------------------------------------------------------ cloud batch (resolved, not run)


def resolved(tmp_path: Path, profiles: str, **params) -> str:
    """`nextflow config -profile PROFILES -flat` with these parameters (in a config: `config` takes no --params)."""
    extra = tmp_path / f"{profiles.replace(',', '_')}.config"
    extra.write_text("".join(f"params.{k} = '{v}'\n" for k, v in params.items()))
    proc = subprocess.run(
        [nextflow_bin(), "-c", str(extra), "config", str(REPO), "-profile", profiles, "-flat"],
        capture_output=True,
        text=True,
        env=nextflow_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_cloud_profiles_resolve_with_a_gpu_and_the_image(tmp_path):
    image = "ghcr.io/me/chromoflow:0.1.0"
    google = resolved(tmp_path, "gpu,google", google_project="p", container=image)
    assert "process.executor = 'google-batch'" in google and "google.location = 'us-central1'" in google
    assert "process.'withLabel:process_gpu'.accelerator = [request:1, type:'nvidia-tesla-t4']" in google
    assert "google.batch.installGpuDrivers = true" in google
    aws = resolved(tmp_path, "gpu,awsbatch", awsqueue="q", container=image)
    assert "process.executor = 'awsbatch'" in aws and "process.'withLabel:process_gpu'.accelerator = 1" in aws
    for text in (google, aws):
        # Every module runs params.container (process `container` directive); GPU tasks add no engine option there.
        assert f"params.container = '{image}'" in text
        assert "process.'withLabel:process_gpu'.containerOptions" in text


# ------------------------------------------------------------------ a failed check, end to end


def test_a_missing_runtime_stops_the_run_before_any_task(tmp_path, image_folder):
    """ch-run not on PATH: one line naming the profile and what to install, exit != 0, nothing in --outdir."""
    # PATH without ch-run: the folders that hold it are replaced by a copy made of links to all but ch-run.
    env = nextflow_env()
    shadow = tmp_path / "bin-without-ch-run"
    shadow.mkdir()
    path = []
    for d in env["PATH"].split(os.pathsep):
        if (Path(d) / "ch-run").exists():
            for entry in Path(d).iterdir():
                if entry.name != "ch-run" and not (shadow / entry.name).exists():
                    (shadow / entry.name).symlink_to(entry)
            d = str(shadow)
        path.append(d)
    env["PATH"] = os.pathsep.join(dict.fromkeys(path))
    proc = subprocess.run(
        [
            nextflow_bin(),
            "run",
            str(REPO),
            "-profile",
            "test,charliecloud",
            "--container",
            str(image_folder),
            "--outdir",
            str(tmp_path / "results"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "-profile charliecloud: 'ch-run' is not on PATH: install Charliecloud" in text, (
        text[-2000:]
    )
    assert not (tmp_path / "results").exists()
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())
