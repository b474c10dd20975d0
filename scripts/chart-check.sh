#!/usr/bin/env bash
# Offline checks of the Helm chart (spec deployment.md §5): no cluster, no internet but PyPI.
#   helm lint --strict, helm template with ci/values-ci.yaml (and the bundled-PostgreSQL variant),
#   kubernetes-validate --strict for Kubernetes 1.31 (any output fails: unknown kinds only warn),
#   rendering without existingSecret must fail.
# The pytest assertions on the rendered documents are tests/deploy/test_chart.py (run by `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
KV="$(dirname "$PY")/kubernetes-validate"
CHART=charts/aremko
OUT=.cache/chart-render
K8S_VERSION=1.31.0

HELM="$("$PY" scripts/get_helm.py)"
mkdir -p "$OUT"
"$HELM" version --short

"$HELM" lint --strict "$CHART" -f "$CHART/ci/values-ci.yaml"
"$HELM" template aremko "$CHART" -f "$CHART/ci/values-ci.yaml" > "$OUT/ci.yaml"
"$HELM" template aremko "$CHART" --set existingSecret=aremko-secrets --set postgresql.enabled=true \
  --set web.autoscaling.enabled=false > "$OUT/bundled-postgresql.yaml"

# The optional operations parts: the backup CronJob is validated with the rest; the Prometheus Operator kinds
# (ServiceMonitor, PrometheusRule: CRDs kubernetes-validate does not know) are rendered apart and checked by
# tests/deploy/test_chart_ops.py.
"$HELM" lint --strict "$CHART" -f "$CHART/ci/values-ci.yaml" --set backup.enabled=true \
  --set metrics.serviceMonitor.enabled=true --set metrics.prometheusRule.enabled=true
"$HELM" template aremko "$CHART" -f "$CHART/ci/values-ci.yaml" --set backup.enabled=true > "$OUT/backup.yaml"
"$HELM" template aremko "$CHART" -f "$CHART/ci/values-ci.yaml" --set metrics.serviceMonitor.enabled=true \
  --set metrics.prometheusRule.enabled=true --show-only templates/servicemonitor.yaml \
  --show-only templates/prometheusrule.yaml > "$OUT/monitoring.yaml"
"$PY" -c 'import sys, yaml; kinds = sorted(d["kind"] for d in yaml.safe_load_all(open(sys.argv[1])) if d); assert kinds == ["PrometheusRule", "ServiceMonitor"], kinds' "$OUT/monitoring.yaml"
echo "monitoring render: ServiceMonitor + PrometheusRule ok"

for manifest in "$OUT/ci.yaml" "$OUT/bundled-postgresql.yaml" "$OUT/backup.yaml"; do
  report="$("$KV" --strict --quiet -k "$K8S_VERSION" "$manifest" 2>&1)" || { echo "$report"; exit 1; }
  if [ -n "$report" ]; then
    echo "kubernetes-validate reported on $manifest:"; echo "$report"; exit 1
  fi
  echo "kubernetes-validate --strict ($K8S_VERSION): $manifest ok ($(grep -c '^kind:' "$manifest") resources)"
done

if "$HELM" template aremko "$CHART" > /dev/null 2> "$OUT/no-secret.err"; then
  echo "rendering without existingSecret must fail"; exit 1
fi
grep -q "existingSecret es obligatorio" "$OUT/no-secret.err"
echo "render without existingSecret fails as required"
echo "chart checks: ok"
