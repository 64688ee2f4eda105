#!/usr/bin/env bash
# The Debian packages that the container and cluster tests use, installed once (idempotent):
#   Slurm 22.05 and munge (a one-node cluster the tests start), Charliecloud 0.31 (ch-run, ch-convert),
#   debootstrap (the image's base without a registry), Podman (builds the Dockerfile here), and what
#   Apptainer's build from source needs (tools/apptainer/install.sh).
# Needs root (apt-get); prints what to install otherwise.
set -euo pipefail
packages=(
    slurm-wlm munge
    charliecloud charliecloud-builders
    debootstrap podman
    build-essential pkg-config autoconf automake libtool unzip
    libseccomp-dev libfuse3-dev squashfs-tools squashfuse fuse2fs fuse-overlayfs uidmap cryptsetup-bin
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "hpc-tools: all ${#packages[@]} Debian packages are installed"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "hpc-tools: missing Debian packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "hpc-tools: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "hpc-tools: installed ${#missing[@]} Debian packages"
