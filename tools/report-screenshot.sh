#!/usr/bin/env bash
# Render a chromoflow report.html as a browser does and save a PNG of it (the top `height` pixels).
#   tools/report-screenshot.sh demo-out/summary/report.html report.png [width=1200] [height=6000]
# Needs Debian's headless chromium (apt-get install chromium).
set -euo pipefail
html="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
command -v chromium >/dev/null || { echo "report-screenshot.sh: chromium not found (apt-get install chromium)" >&2; exit 1; }
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="${3:-1200},${4:-6000}" --screenshot="$2" "file://$html" 2>/dev/null
echo "$2"
