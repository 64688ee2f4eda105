#!/usr/bin/env bash
# The Apptainer/Singularity image file (SIF) of the folder image that containers/build-root.sh made:
# the same root, packed into one squashfs file that `-profile apptainer`/`singularity` run.
#   containers/build-sif.sh ROOT SIF
# Idempotent: rebuilt only when ROOT was rebuilt (its source hash, kept beside the SIF in SIF.sha256).
# Written to SIF.part and moved into place: an interrupted build leaves no SIF behind.
# SIF_COMPRESSION (default zstd at level 3; 'gzip' is Apptainer's own default) trades build time for
# size: on 2 cores zstd-3 packs the 6 GB root several times faster than gzip, in a file of about the
# same size (benchmarks/README.md).
set -euo pipefail
root=${1:?usage: containers/build-sif.sh ROOT SIF}
sif=${2:?usage: containers/build-sif.sh ROOT SIF}
die() { echo "build-sif.sh: $*" >&2; exit 1; }
[ -f "$root/opt/chromoflow/source.sha256" ] || die "$root is not an image built by 'make image' (no opt/chromoflow/source.sha256)"
command -v apptainer >/dev/null || die "apptainer not found: run 'make apptainer' (and put .venv/bin on PATH), or use your site's Apptainer"
want=$(cat "$root/opt/chromoflow/source.sha256")
if [ -f "$sif" ] && [ -f "$sif.sha256" ] && [ "$(cat "$sif.sha256")" = "$want" ]; then
    echo "build-sif.sh: $sif is up to date (recipe and source $want)"
    exit 0
fi
case "${SIF_COMPRESSION:-zstd}" in
    gzip) squash=() ;;
    zstd) squash=(--mksquashfs-args "-comp zstd -Xcompression-level 3") ;;
    *) squash=(--mksquashfs-args "-comp ${SIF_COMPRESSION}") ;;
esac
start=$(date +%s)
rm -f "$sif.part" "$sif.sha256"
apptainer build --force "${squash[@]}" "$sif.part" "$root" >"$sif.build.log" 2>&1 ||
    { tail -n 20 "$sif.build.log" >&2; rm -f "$sif.part"; die "apptainer build failed (log: $sif.build.log)"; }
chmod a+r "$sif.part"
mv "$sif.part" "$sif"
echo "$want" >"$sif.sha256"
rm -f "$sif.build.log"
echo "build-sif.sh: built $sif in $(($(date +%s) - start)) s ($(du -h "$sif" | cut -f1))"
