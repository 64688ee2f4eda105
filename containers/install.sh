#!/bin/sh
# chromoflow's runtime image: the one recipe. Every way of building the image runs this script, as
# root, inside the root file system being built, on a Debian bookworm base:
#   containers/Dockerfile      docker/podman build (base: the debian:bookworm-slim image of BASE)
#   containers/chromoflow.def  apptainer build      (base: the same Debian image)
#   containers/build-root.sh   make image           (base: a debootstrap root, no registry needed)
#
#   sh install.sh SOURCE
# SOURCE holds pyproject.toml, README.md, src/ and containers/constraints.txt (the repository's
# files, copied in); it is deleted once chromoflow is installed.
#
# Result: Debian's Python 3 with a virtual environment in /opt/chromoflow/venv holding chromoflow and
# every dependency at the version of constraints.txt (PyPI's torch: CUDA wheels, which also run on
# CPUs), procps (ps, for Nextflow's task metrics) and bash; every file readable by any user; the
# environment below written for each container runtime. Nothing is written at run time but /tmp and
# the task folder (HOME is /tmp; chromoflow keeps matplotlib's cache in a private temporary folder).
set -eu
SOURCE=${1:?usage: install.sh SOURCE}
PREFIX=/opt/chromoflow

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv procps
apt-get clean
rm -rf /var/lib/apt/lists/*

python3 -m venv "$PREFIX/venv"
PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$PREFIX/venv/bin/pip" install --no-warn-script-location -c "$SOURCE/containers/constraints.txt" "$SOURCE"
cp "$SOURCE/containers/constraints.txt" "$PREFIX/constraints.txt"
rm -rf "$SOURCE"

# The image's environment, written once here for every runtime: Docker and Podman take it from the
# Dockerfile's ENV (the same lines; tests/test_containers.py compares them), Charliecloud from
# /ch/environment (ch-run --set-env), Apptainer/Singularity from /.singularity.d/env.
cat > "$PREFIX/environment" <<'ENVIRONMENT'
PATH=/opt/chromoflow/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/tmp
LANG=C.UTF-8
PYTHONDONTWRITEBYTECODE=1
PYTHONUNBUFFERED=1
ENVIRONMENT
mkdir -p /ch /.singularity.d/env
cp "$PREFIX/environment" /ch/environment
# Apptainer sets HOME itself (the caller's, or --home); the rest is exported.
grep -v '^HOME=' "$PREFIX/environment" | sed 's/^/export /' > /.singularity.d/env/90-chromoflow.sh

"$PREFIX/venv/bin/chromoflow" --version
chmod -R a+rX "$PREFIX" /ch /.singularity.d
