#!/usr/bin/env bash
# Install a Nextflow from Maven Central into PREFIX and write a launcher into BINDIR.
# Needs java (>= 17) and mvn.
#   tools/nextflow/install.sh PREFIX BINDIR [POM_FOLDER [LAUNCHER_NAME]]
# POM_FOLDER (default: this folder, the pinned Nextflow) holds the pom.xml that names the
# version; tools/nextflow-strict and tools/nextflow-lint hold the newer ones the checks use.
set -euo pipefail
here="$(cd "${3:-$(dirname "$0")}" && pwd)"
name="${4:-nextflow}"
prefix="$(mkdir -p "$1" && cd "$1" && pwd)"
bindir="$(mkdir -p "$2" && cd "$2" && pwd)"
for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "install.sh: '$tool' not found; install a JDK (>= 17) and Maven, or Nextflow itself (https://www.nextflow.io/docs/latest/install.html)" >&2; exit 1; }
done
lib="$prefix/lib"
if [ ! -f "$prefix/.complete" ]; then
  rm -rf "$lib.part"
  mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib.part"
  if ls "$lib.part" | grep -Eq '^groovy-(all-)?[23]\.'; then
    echo "install.sh: a Groovy 2/3 jar slipped into the classpath" >&2; exit 1
  fi
  rm -rf "$lib" && mv "$lib.part" "$lib"
  touch "$prefix/.complete"
fi
mkdir -p "$prefix/home"
cat > "$bindir/$name.part" <<LAUNCHER
#!/usr/bin/env bash
# Nextflow from Maven Central (installed by tools/nextflow/install.sh), no plugin downloads.
export NXF_HOME="\${NXF_HOME:-$prefix/home}"
export NXF_OFFLINE="\${NXF_OFFLINE:-true}"
export NXF_DISABLE_CHECK_LATEST=true
export NXF_PLUGINS_DIR="\${NXF_PLUGINS_DIR:-$prefix/home/plugins}"
opens=""
for p in java.lang java.io java.nio java.net java.nio.file.spi java.util java.util.regex \\
         java.util.concurrent.locks java.util.concurrent.atomic sun.nio.ch sun.nio.fs \\
         sun.net.www.protocol.http sun.net.www.protocol.https sun.net.www.protocol.ftp \\
         sun.net.www.protocol.file jdk.internal.misc jdk.internal.vm; do
  opens="\$opens --add-opens=java.base/\$p=ALL-UNNAMED"
done
exec java -Dfile.encoding=UTF-8 \$opens \${NXF_JVM_ARGS:-} -cp "$lib/*" nextflow.cli.Launcher "\$@"
LAUNCHER
chmod +x "$bindir/$name.part"
mv "$bindir/$name.part" "$bindir/$name"
"$bindir/$name" -version >/dev/null
echo "$name: $bindir/$name ($(grep -o '<nextflow.version>[^<]*' "$here/pom.xml" | cut -d'>' -f2), from Maven Central)"
