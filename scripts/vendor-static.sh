#!/usr/bin/env bash
# Re-fetches the vendored front-end files from the npm registry (run by hand when upgrading;
# the app never loads anything from a CDN). Versions live in the file names.
set -euo pipefail
HTMX=2.0.8 BOOTSTRAP=5.3.8 CHARTJS=4.5.1
dest="$(cd "$(dirname "$0")/.." && pwd)/app/static/vendor"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "htmx.org@$HTMX" "bootstrap@$BOOTSTRAP" "chart.js@$CHARTJS" >/dev/null
for f in *.tgz; do mkdir -p "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done
cp "htmx.org-$HTMX/package/dist/htmx.min.js" "$dest/htmx-$HTMX.min.js"
cp "bootstrap-$BOOTSTRAP/package/dist/css/bootstrap.min.css" "$dest/bootstrap-$BOOTSTRAP.min.css"
cp "bootstrap-$BOOTSTRAP/package/dist/js/bootstrap.bundle.min.js" "$dest/bootstrap-$BOOTSTRAP.bundle.min.js"
cp "chart.js-$CHARTJS/package/dist/chart.umd.min.js" "$dest/chart-$CHARTJS.umd.min.js"
sed -i 's#//\# sourceMappingURL=.*##' "$dest"/*.js
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$dest"/*.css
echo "vendored into $dest"
