"""The image recipe, read: one install script (containers/install.sh) that the Dockerfile, the Apptainer
definition and `make image` (containers/build-root.sh) all run on the same Debian base, with every
dependency pinned and the image's environment stated once. The images are built and run for real in
test_deployment.py (`make image`, `make sif`)."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import tomllib

import chromoflow

REPO = Path(__file__).resolve().parents[1]
CONTAINERS = REPO / "containers"
DOCKERFILE = (CONTAINERS / "Dockerfile").read_text()
DEFFILE = (CONTAINERS / "chromoflow.def").read_text()
INSTALL = (CONTAINERS / "install.sh").read_text()
BUILD_ROOT = (CONTAINERS / "build-root.sh").read_text()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
SOURCE = "/opt/chromoflow/source"
# What every recipe copies into the image before running install.sh: (repository path, image path).
COPIED = {
    ("pyproject.toml", f"{SOURCE}/pyproject.toml"),
    ("README.md", f"{SOURCE}/README.md"),
    ("src", f"{SOURCE}/src"),
    ("containers/install.sh", f"{SOURCE}/containers/install.sh"),
    ("containers/constraints.txt", f"{SOURCE}/containers/constraints.txt"),
}


def test_versions_agree_everywhere():
    assert chromoflow.__version__ == VERSION
    assert f'org.opencontainers.image.version="{VERSION}"' in DOCKERFILE
    assert f"org.opencontainers.image.version {VERSION}" in DEFFILE
    config = (REPO / "nextflow.config").read_text()
    assert f"version         = '{VERSION}'" in config
    assert f"container         = 'chromoflow:{VERSION}'" in config
    # The local images the charliecloud/apptainer/singularity profiles use are the ones `make image`/`make sif` write.
    assert config.count(f'/chromoflow-{VERSION}.sif"') == 2 and config.count(f'/chromoflow-{VERSION}"') == 1
    makefile = (REPO / "Makefile").read_text()
    assert "IMAGE            := $(CHROMOFLOW_IMAGES)/chromoflow-$(VERSION)" in makefile
    assert "SIF              := $(CHROMOFLOW_IMAGES)/chromoflow-$(VERSION).sif" in makefile


def test_one_recipe_on_one_base():
    """The Dockerfile, the Apptainer definition and build-root.sh copy the same files and run install.sh."""
    base = re.search(r"^ARG BASE=(\S+)$", DOCKERFILE, re.M).group(1)
    assert re.fullmatch(r"debian:bookworm-\d{8}-slim", base)  # a dated Debian 12 release, as debootstrap makes
    assert re.search(r"^From: (\S+)$", DEFFILE, re.M).group(1) == base
    assert "debootstrap --variant=minbase bookworm" in BUILD_ROOT
    run = f"sh {SOURCE}/containers/install.sh {SOURCE}"
    assert f"RUN {run}" in DOCKERFILE and f"    {run}" in DEFFILE
    assert (
        'chroot "$part" /bin/sh "$source/containers/install.sh" "$source"' in BUILD_ROOT
        and f'source="{SOURCE}"' in BUILD_ROOT
    )
    docker = set()
    for line in re.findall(r"^COPY (.+)$", DOCKERFILE, re.M):
        *srcs, dst = line.split()
        docker |= {(s, dst.rstrip("/") + "/" + Path(s).name if dst.endswith("/") else dst) for s in srcs}
    assert docker == COPIED
    apptainer = {tuple(line.split()) for line in DEFFILE.split("%files")[1].split("%")[0].strip().splitlines()}
    assert apptainer == COPIED
    # build-root.sh: the same files into the same places.
    assert 'cp -r "$repo/pyproject.toml" "$repo/README.md" "$repo/src" "$part$source/"' in BUILD_ROOT
    assert 'cp "$here/install.sh" "$here/constraints.txt" "$part$source/containers/"' in BUILD_ROOT
    # Only the install script installs: no second copy of its steps in the other recipes.
    for text in (DOCKERFILE, DEFFILE, BUILD_ROOT):
        commands = [line for line in text.splitlines() if not line.lstrip().startswith("#") and "die " not in line]
        assert not any("pip install" in c or "apt-get install" in c for c in commands)


def test_every_dependency_pinned():
    assert 'pip" install --no-warn-script-location -c "$SOURCE/containers/constraints.txt" "$SOURCE"' in INSTALL
    pins = {}
    for line in (CONTAINERS / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    for dep in PYPROJECT["project"]["dependencies"]:
        name = re.split(r"[<>=!~ ]", dep)[0].lower()
        assert name in pins, f"{name} is not pinned"
        assert packaging_ok(dep, pins[name]), (dep, pins[name])
    assert "setuptools" in pins  # torch needs it at run time; unpinned it would be whatever PyPI has that day
    assert tuple(int(x) for x in pins["torch"].split(".")[:2]) >= (2, 6)  # CVE-2025-32434


def packaging_ok(requirement: str, version: str) -> bool:
    from packaging.requirements import Requirement

    return Requirement(requirement.split("#")[0].strip()).specifier.contains(version)


def test_torch_floor_closes_the_weights_only_bypass():
    torch_req = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch"))
    assert torch_req.startswith("torch>=2.6")


def test_environment_stated_once():
    """install.sh writes the image's environment for Charliecloud and Apptainer; the Dockerfile's ENV is the same."""
    lines = INSTALL.split("<<'ENVIRONMENT'\n")[1].split("\nENVIRONMENT")[0].splitlines()
    env = dict(line.split("=", 1) for line in lines)
    assert env["PATH"].startswith("/opt/chromoflow/venv/bin:") and env["HOME"] == "/tmp"
    docker_env = DOCKERFILE.split("\nENV ", 1)[1].split("\n\n")[0]
    assert dict(re.findall(r"(\w+)=(\S+)", docker_env)) == env
    assert "/ch/environment" in INSTALL and "/.singularity.d/env/90-chromoflow.sh" in INSTALL


def test_runs_as_any_user_with_bash_and_ps():
    assert "procps" in INSTALL  # ps, for Nextflow's task metrics; Debian's base has bash
    assert 'chmod -R a+rX "$PREFIX" /ch /.singularity.d' in INSTALL
    for text in (DOCKERFILE, DEFFILE, INSTALL):
        assert "umask" not in text
        # No fixed shared cache folders (another user may own them; Singularity shares the host's /tmp).
        assert "MPLCONFIGDIR" not in text and "XDG_CACHE_HOME" not in text and "TORCH_HOME" not in text
    assert not re.search(r"^USER ", DOCKERFILE, re.M)
    assert 'rm -rf "$SOURCE"' in INSTALL  # the copied source is not left in the image


def test_build_time_ca_bundle_stays_out_of_the_image():
    """build-root.sh gives pip the host's CA bundle during the build only, and keeps mirror names out of the repo."""
    assert 'rm -f "$part$build_ca"' in BUILD_ROOT and "PIP_CERT=$build_ca" in BUILD_ROOT
    for path in list(CONTAINERS.iterdir()) + [REPO / "Makefile"]:
        assert "deb.debian.org" not in path.read_text() and "snapshot.debian.org" not in path.read_text(), path


def test_copied_files_build_this_version(tmp_path):
    """What every recipe copies (pyproject.toml, README.md, src/) is a complete, installable package."""
    src = tmp_path / "ctx"
    src.mkdir()
    for name, _ in COPIED:
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
    """-profile conda: the images' Python (Debian 12's 3.11) and chromoflow installed under the same constraints."""
    import yaml

    env = yaml.safe_load((REPO / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.split("::")[-1].startswith("python="))
    assert python.split("=")[-1] == "3.11"
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip == ["-c containers/constraints.txt", "."]  # conda runs pip in this file's folder: the repository
    assert all(
        "::" in d and "=" in d for d in deps if isinstance(d, str)
    )  # every conda package pinned, with its channel
    config = (REPO / "nextflow.config").read_text()
    assert 'process.conda          = "${projectDir}/environment.yml"' in config
