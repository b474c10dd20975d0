#!/bin/sh
# Container entry point (spec deployment.md §3). Never prints environment values.
# web | scheduler | migrate | seed-demo | any other command.
# Migrations run only in the one-off `migrate` step, never when web or the scheduler start.
set -eu

: "${PORT:=8000}"
: "${BIND_HOST:=0.0.0.0}"
: "${WEB_CONCURRENCY:=2}"
: "${GUNICORN_THREADS:=2}"  # 2 threads per worker: better p95 than 4 under CPU-bound load (docs/PERFORMANCE.md)
: "${GUNICORN_TIMEOUT:=60}"
: "${GUNICORN_KEEPALIVE:=5}"  # above the proxy's upstream keepalive_timeout (4 s), so the proxy closes first
# gunicorn serves behind a buffering proxy (compose: deploy/nginx.conf; Kubernetes: the ingress), which sends only
# complete requests: slow or idle clients never reach these few threads (docs/OPERATIONS.md "Proxy", review H2).
# The access log masks token paths and drops query strings (app.core.logs.GunicornLogger, review L4).

case "${1:-web}" in
  web)
    set -- gunicorn wsgi:app -k gthread --bind "${BIND_HOST}:${PORT}" --workers "${WEB_CONCURRENCY}" \
      --threads "${GUNICORN_THREADS}" --timeout "${GUNICORN_TIMEOUT}" --keep-alive "${GUNICORN_KEEPALIVE}" \
      --graceful-timeout 30 --logger-class app.core.logs.GunicornLogger --access-logfile -
    if [ "${ENTRYPOINT_DRY_RUN:-}" = "1" ]; then
      echo "$@"
      exit 0
    fi
    exec "$@"
    ;;
  scheduler)
    exec flask scheduler run
    ;;
  migrate)
    flask wait-db --timeout 60 && flask db upgrade && flask ensure-admin
    ;;
  seed-demo)
    exec flask seed-demo
    ;;
  *)
    exec "$@"
    ;;
esac
