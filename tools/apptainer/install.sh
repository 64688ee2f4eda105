#!/usr/bin/env bash
# Apptainer (what most HPC sites call Singularity) from its source, for machines whose package
# manager has none (Debian 12): the source comes from the Go module proxy, which serves release tags.
#   tools/apptainer/install.sh PREFIX BINDIR
# Installs into PREFIX (outside the checkout, so that clones share one build) and links apptainer,
# singularity and run-singularity into BINDIR. Does nothing but the links when an `apptainer` of
# version >= 1.4 is already on PATH (a site's own install is used as it is) or PREFIX holds the build.
# Needs go, make, a C compiler and Apptainer's build libraries (make hpc-tools installs them:
# libseccomp-dev, libfuse3-dev, pkg-config, autoconf, automake, libtool, squashfs-tools, ...).
# Takes about 5 minutes on 2 cores.
set -euo pipefail
version=1.4.1
prefix=${1:?usage: install.sh PREFIX BINDIR}
bindir=${2:?usage: install.sh PREFIX BINDIR}
mkdir -p "$bindir"

at_least_1_4() {  # "apptainer version 1.4.1" -> true for >= 1.4
    "$1" --version 2>/dev/null | awk '{ split($NF, v, "."); exit !(v[1] > 1 || (v[1] == 1 && v[2] >= 4)) }'
}

link_from() {
    local dir=$1
    for tool in apptainer singularity run-singularity; do
        [ -e "$dir/$tool" ] && ln -sfn "$dir/$tool" "$bindir/$tool"
    done
    echo "apptainer: $("$bindir/apptainer" --version) ($dir/apptainer, linked into $bindir)"
}

# A site's Apptainer on PATH (not one of our own links) is used as it is.
existing=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$(cd "$bindir" && pwd)" | paste -sd: -) command -v apptainer || true)
if [ -n "$existing" ] && at_least_1_4 "$existing"; then
    link_from "$(dirname "$(readlink -f "$existing")")"
    exit 0
fi
if [ -f "$prefix/.complete" ] && at_least_1_4 "$prefix/bin/apptainer"; then
    link_from "$prefix/bin"
    exit 0
fi

for tool in go make gcc pkg-config mksquashfs; do
    command -v "$tool" >/dev/null || { echo "install.sh: '$tool' not found: run 'make hpc-tools' (Debian packages) first" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "apptainer: building $version from the Go module proxy's source into $prefix (about 5 minutes)"
zip=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/apptainer/apptainer@v$version" | awk -F'"' '/"Zip"/ { print $4 }')
[ -f "$zip" ] || { echo "install.sh: the Go module proxy did not serve apptainer v$version" >&2; exit 1; }
(cd "$work" && unzip -q "$zip")
src="$work/github.com/apptainer/apptainer@v$version"
# A module zip keeps no file modes: make the tree writable and the build scripts executable again.
chmod -R u+w "$src"
chmod +x "$src/mconfig"
find "$src/makeit" "$src/mlocal" "$src/scripts" -type f -exec chmod +x {} +
echo "$version" >"$src/VERSION"
# The prefix is compiled into the binaries (configuration, helpers): build for PREFIX itself, and mark
# the install complete at the end, so that an interrupted one is rebuilt rather than used.
rm -rf "$prefix"
(cd "$src" && ./mconfig --without-suid --prefix="$prefix" -b builddir >"$work/mconfig.log" 2>&1) ||
    { tail -n 30 "$work/mconfig.log" >&2; echo "install.sh: mconfig failed" >&2; exit 1; }
(make -C "$src/builddir" -j"$(nproc)" >"$work/make.log" 2>&1 && make -C "$src/builddir" install >>"$work/make.log" 2>&1) ||
    { tail -n 30 "$work/make.log" >&2; echo "install.sh: the build failed" >&2; exit 1; }
touch "$prefix/.complete"
link_from "$prefix/bin"
