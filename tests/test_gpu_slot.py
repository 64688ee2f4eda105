"""bin/chromoflow-gpu-slot: concurrent local GPU tasks each hold their own GPU."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bin" / "chromoflow-gpu-slot"
pytestmark = pytest.mark.skipif(shutil.which("flock") is None, reason="flock (util-linux) not installed")


def task(locks: Path, ids: str, out: Path, hold: float, env: dict | None = None) -> subprocess.Popen:
    """A task script as Nextflow runs it (bash -ue): take a slot, record it with times, work, exit."""
    body = (
        f'. {SCRIPT} "$1" "$2"; echo "$CUDA_VISIBLE_DEVICES $(date +%s.%N)" > "$3"; sleep {hold}; date +%s.%N >> "$3"'
    )
    return subprocess.Popen(
        ["bash", "-ue", "-c", body, "task", str(locks), ids, str(out)],
        env={**os.environ, **(env or {})},
        stderr=subprocess.PIPE,
        text=True,
    )


def read(out: Path):
    first, end = out.read_text().splitlines()
    gpu, start = first.split()
    return gpu, float(start), float(end)


def test_two_gpus_three_tasks(tmp_path):
    env = {"CUDA_VISIBLE_DEVICES": ""}
    procs = [task(tmp_path / "locks", "0,1", tmp_path / f"t{i}", 1.5, env) for i in range(2)]
    time.sleep(0.5)
    procs.append(task(tmp_path / "locks", "0,1", tmp_path / "t2", 0.1, env))
    errs = [p.communicate(timeout=30)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errs
    runs = [read(tmp_path / f"t{i}") for i in range(3)]
    assert {runs[0][0], runs[1][0]} == {"0", "1"}  # the first two share nothing
    assert runs[2][1] >= min(runs[0][2], runs[1][2]) - 0.05  # the third waited for a GPU to come free
    assert "waiting for one" in errs[2] and "holds GPU" in errs[2]


def test_ids_count_the_visible_gpus(tmp_path):
    """With CUDA_VISIBLE_DEVICES=5,7 already set, slot 1 is GPU 7: never a GPU outside the user's choice."""
    env = {"CUDA_VISIBLE_DEVICES": "5,7"}
    holder = task(tmp_path / "locks", "0", tmp_path / "a", 1.0, env)
    time.sleep(0.4)
    second = task(tmp_path / "locks", "0,1", tmp_path / "b", 0.1, env)
    for p in (holder, second):
        p.communicate(timeout=30)
        assert p.returncode == 0
    assert read(tmp_path / "a")[0] == "5" and read(tmp_path / "b")[0] == "7"


@pytest.mark.parametrize(
    "ids, env, message",
    [
        ("0;touch MARKER", {}, "GPU ids must be digits"),
        ("", {}, "GPU ids must be digits"),
        ("2", {"CUDA_VISIBLE_DEVICES": "5,7"}, "GPU id 2 is not among the 2 GPUs"),
    ],
)
def test_bad_ids_stop_the_task(tmp_path, ids, env, message):
    p = task(tmp_path / "locks", ids, tmp_path / "out", 0, env)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 2 and message in err and not (tmp_path / "out").exists()
    assert not list(tmp_path.glob("**/MARKER")) and not Path("MARKER").exists()
