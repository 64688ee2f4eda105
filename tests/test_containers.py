"""Containers cannot be built here (no Docker engine): check what reading can check, and
that the files they copy build the same chromoflow version as pyproject.toml."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import tomllib

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


def test_same_pinned_base_image_and_versions():
    base = re.search(r"^FROM (\S+)$", DOCKERFILE, re.M).group(1)
    assert re.search(r"^From: (\S+)$", DEFFILE, re.M).group(1) == base
    repo, tag = base.split(":")
    assert repo == "python" and re.match(r"^\d+\.\d+\.\d+-slim-\w+$", tag)  # an exact Python release
    # Both recipes install with the same constraints file, which pins every runtime dependency exactly.
    for text in (DOCKERFILE, DEFFILE):
        assert "pip install -c /opt/chromoflow/containers/constraints.txt /opt/chromoflow" in text
    pins = {}
    for line in (REPO / "containers" / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    for dep in PYPROJECT["project"]["dependencies"]:
        name = re.split(r"[<>=!~ ]", dep)[0].lower()
        assert name in pins, f"{name} is not pinned"
        assert packaging_ok(dep, pins[name]), (dep, pins[name])
    assert tuple(int(x) for x in pins["torch"].split(".")[:2]) >= (2, 6)  # CVE-2025-32434


def packaging_ok(requirement: str, version: str) -> bool:
    from packaging.requirements import Requirement

    return Requirement(requirement.split("#")[0].strip()).specifier.contains(version)


def test_torch_floor_closes_the_weights_only_bypass():
    torch_req = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch"))
    assert torch_req.startswith("torch>=2.6")


def test_runs_as_any_user_with_bash_and_ps():
    for text in (DOCKERFILE, DEFFILE):
        assert "procps" in text  # ps, for Nextflow's task metrics
        assert "chmod -R a+rX /opt/chromoflow" in text
        assert "umask" not in text
        # No fixed shared cache folders (another user may own them; Singularity shares the host's /tmp).
        assert "MPLCONFIGDIR" not in text and "XDG_CACHE_HOME" not in text and "TORCH_HOME" not in text
    assert "HOME=/tmp" in DOCKERFILE  # docker -u gives a user without a home
    assert "USER root" not in DOCKERFILE and not re.search(r"^USER ", DOCKERFILE, re.M)


def test_copied_files_build_this_version(tmp_path):
    """What the Dockerfile copies (pyproject.toml, README.md, src/) is a complete, installable package."""
    copied = re.findall(r"^COPY (.+) /opt/chromoflow/?\S*$", DOCKERFILE, re.M)
    src = tmp_path / "ctx"
    src.mkdir()
    for line in copied:
        for name in line.split():
            path = REPO / name
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if path.is_dir() else shutil.copy)(path, src / name)
    out = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)], check=True)
    wheel = next(out.glob("chromoflow-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith("METADATA"))
        text = zf.read(meta).decode()
        assert f"Version: {VERSION}" in text
        assert "chromoflow/cli/__init__.py" in zf.namelist() and "chromoflow/models/chromoformer.py" in zf.namelist()
        assert "chromoflow/evaluate/templates/report.html.j2" in zf.namelist()  # package data: the report template


def test_conda_environment_matches_the_containers():
    """-profile conda: the same Python as the images' base and chromoflow installed under the same constraints file."""
    import yaml

    env = yaml.safe_load((REPO / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.split("::")[-1].startswith("python="))
    base = re.search(r"^FROM python:(\d+\.\d+\.\d+)-", DOCKERFILE, re.M).group(1)
    assert python.split("=")[-1] == base
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip == ["-c containers/constraints.txt", "."]  # conda runs pip in this file's folder: the repository
    assert all(
        "::" in d and "=" in d for d in deps if isinstance(d, str)
    )  # every conda package pinned, with its channel
    config = (REPO / "nextflow.config").read_text()
    assert 'process.conda          = "${projectDir}/environment.yml"' in config
