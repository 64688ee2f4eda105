"""Containers cannot be built here (no Docker engine): check what reading can check, and
that the files they copy build the same chromoflow version as pyproject.toml."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import chromoflow

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "containers" / "Dockerfile").read_text()
DEFFILE = (REPO / "containers" / "chromoflow.def").read_text()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]


def test_versions_agree_everywhere():
    assert chromoflow.__version__ == VERSION
    assert f'org.opencontainers.image.version="{VERSION}"' in DOCKERFILE
    assert f"org.opencontainers.image.version {VERSION}" in DEFFILE
    config = (REPO / "nextflow.config").read_text()
    assert f"version         = '{VERSION}'" in config
    assert f"container         = 'chromoflow:{VERSION}'" in config


def test_same_pinned_base_image():
    base = re.search(r"^FROM (\S+)$", DOCKERFILE, re.M).group(1)
    assert re.search(r"^From: (\S+)$", DEFFILE, re.M).group(1) == base
    repo, tag = base.split(":")
    assert repo == "pytorch/pytorch" and re.match(r"^\d+\.\d+\.\d+-cuda[\d.]+-cudnn\d+-runtime$", tag)
    # The base image's torch must satisfy chromoflow's requirement, so pip keeps the CUDA build.
    torch_req = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch"))
    minimum = tuple(int(x) for x in torch_req.split(">=")[1].split("."))
    assert tuple(int(x) for x in tag.split("-")[0].split(".")) >= minimum


def test_runs_as_any_user_with_bash_and_ps():
    for text in (DOCKERFILE, DEFFILE):
        assert "procps" in text  # ps, for Nextflow's task metrics
        for var in ("HOME", "MPLCONFIGDIR", "XDG_CACHE_HOME", "TORCH_HOME"):
            assert re.search(rf"{var}=/tmp", text), var
        assert "chmod -R a+rX /opt/chromoflow" in text
        assert "pip install /opt/chromoflow" in text
    assert "USER root" not in DOCKERFILE and not re.search(r"^USER ", DOCKERFILE, re.M)


def test_copied_files_build_this_version(tmp_path):
    """What the Dockerfile copies (pyproject.toml, README.md, src/) is a complete, installable package."""
    copied = re.findall(r"^COPY (.+) /opt/chromoflow/?\S*$", DOCKERFILE, re.M)
    src = tmp_path / "ctx"
    src.mkdir()
    for line in copied:
        for name in line.split():
            path = REPO / name
            (shutil.copytree if path.is_dir() else shutil.copy)(path, src / name)
    out = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)], check=True)
    wheel = next(out.glob("chromoflow-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith("METADATA"))
        text = zf.read(meta).decode()
        assert f"Version: {VERSION}" in text
        assert "chromoflow/cli/__init__.py" in zf.namelist() and "chromoflow/models/chromoformer.py" in zf.namelist()
