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
SWAGGER_UI=5.35.0  # the API docs page /ventas/api/docs/
npm pack --silent "swagger-ui-dist@$SWAGGER_UI" >/dev/null
mkdir -p "swagger-ui-dist-$SWAGGER_UI" && tar xzf "swagger-ui-dist-$SWAGGER_UI.tgz" -C "swagger-ui-dist-$SWAGGER_UI"
cp "swagger-ui-dist-$SWAGGER_UI/package/swagger-ui-bundle.js" "$dest/swagger-ui-bundle-$SWAGGER_UI.js"
cp "swagger-ui-dist-$SWAGGER_UI/package/swagger-ui.css" "$dest/swagger-ui-$SWAGGER_UI.css"
cp "swagger-ui-dist-$SWAGGER_UI/package/LICENSE" "$dest/swagger-ui-$SWAGGER_UI.LICENSE"
sed -i 's#//\# sourceMappingURL=.*##' "$dest"/*.js
sed -i 's#/\*\# sourceMappingURL=[^*]*\*/##' "$dest"/*.css
echo "vendored into $dest"
