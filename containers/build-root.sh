#!/usr/bin/env bash
# chromoflow's runtime image as a folder (a root file system), built where no container registry is
# reachable: a Debian bookworm root from debootstrap, from the Debian mirror this machine's apt is
# configured with, then containers/install.sh inside it (the recipe the Dockerfile and the Apptainer
# definition run too). Charliecloud runs the folder as it is (ch-run); `make sif` packs it into an
# Apptainer/Singularity image file. Needs root, debootstrap and network access to Debian and PyPI.
#
#   containers/build-root.sh DEST
#
# Idempotent: DEST is rebuilt only when the recipe or the package changed (a hash of
# containers/{install.sh,constraints.txt,build-root.sh}, pyproject.toml and src/, kept in
# DEST/opt/chromoflow/source.sha256; README.md is left out: it is only the package's description).
# The build happens in DEST.part and is moved into place at the end: an interrupted build leaves no
# half-made image at DEST.
set -euo pipefail
dest=${1:?usage: containers/build-root.sh DEST}
repo=$(cd "$(dirname "$0")/.." && pwd)
here="$repo/containers"

die() { echo "build-root.sh: $*" >&2; exit 1; }

source_hash() {
    (cd "$repo" && find containers/install.sh containers/constraints.txt containers/build-root.sh pyproject.toml src \
        -type f ! -name '*.pyc' ! -path '*/__pycache__/*' ! -path '*.egg-info/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
        sha256sum | cut -d' ' -f1
}

# The first Debian mirror that serves bookworm in this machine's apt sources (deb822 .sources or
# one-line .list files), so that no mirror host name is written into the repository.
bookworm_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN{RS=""} /Suites:[^\n]*bookworm([ \n]|$)/ && /Components:[^\n]*main/ {
                 if (match($0, /URIs: *[^ \n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/URIs: */, "", u); print u; exit } }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" && $0 ~ / bookworm( |$)/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f"
    done
}

want=$(source_hash)
if [ -f "$dest/opt/chromoflow/source.sha256" ] && [ "$(cat "$dest/opt/chromoflow/source.sha256")" = "$want" ]; then
    echo "build-root.sh: $dest is up to date (recipe and source $want)"
    exit 0
fi
[ "$(id -u)" = 0 ] || die "debootstrap and chroot need root: run 'sudo make image' (or build containers/Dockerfile with docker/podman)"
command -v debootstrap >/dev/null || die "debootstrap not found: install it (apt-get install debootstrap), or run 'make hpc-tools'"
mirror=${DEBIAN_MIRROR:-$(bookworm_mirror | head -n1)}
[ -n "$mirror" ] || die "no Debian bookworm mirror in /etc/apt/sources.list*: set DEBIAN_MIRROR=<URL of a Debian mirror>"

part="$dest.part"
rm -rf "$part"
mkdir -p "$(dirname "$dest")"
start=$(date +%s)
echo "build-root.sh: debootstrap bookworm from the machine's Debian mirror into $part"
debootstrap --variant=minbase bookworm "$part" "$mirror" >"$part.debootstrap.log" 2>&1 ||
    { tail -n 20 "$part.debootstrap.log" >&2; die "debootstrap failed (log: $part.debootstrap.log)"; }
rm -f "$part.debootstrap.log"

source="/opt/chromoflow/source"
mkdir -p "$part$source/containers"
cp -r "$repo/pyproject.toml" "$repo/README.md" "$repo/src" "$part$source/"
cp "$here/install.sh" "$here/constraints.txt" "$part$source/containers/"
find "$part$source" \( -name '__pycache__' -o -name '*.egg-info' \) -prune -exec rm -rf {} +
# Build time only: the host's CA bundle (pip and apt behind a TLS-inspecting proxy) and name service.
# (Not at /etc/ssl/certs: Debian's ca-certificates, installed with Python, rewrites that bundle.)
ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
build_ca=/tmp/chromoflow-build-ca.crt
[ -f "$ca" ] && cp "$ca" "$part$build_ca"
cp /etc/resolv.conf "$part/etc/resolv.conf" 2>/dev/null || true
passthrough=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST PIP_DEFAULT_TIMEOUT; do
    [ -n "${!v:-}" ] && passthrough+=("$v=${!v}")
done
[ -f "$ca" ] && passthrough+=("PIP_CERT=$build_ca")
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "${passthrough[@]}" \
    chroot "$part" /bin/sh "$source/containers/install.sh" "$source"
rm -f "$part$build_ca"
: >"$part/etc/resolv.conf"  # runtimes bind the host's own
rm -rf "$part/var/cache/apt/archives/"*.deb "$part/var/lib/apt/lists/"* "$part/root/.cache"
echo "$want" >"$part/opt/chromoflow/source.sha256"
chmod a+r "$part/opt/chromoflow/source.sha256"
rm -rf "$dest"
mv "$part" "$dest"
echo "build-root.sh: built $dest in $(($(date +%s) - start)) s ($(du -sh "$dest" | cut -f1))"
