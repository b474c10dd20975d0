#!/bin/sh
# Container entry point (spec deployment.md §3). Never prints environment values.
# web | scheduler | migrate | seed-demo | any other command.
# Migrations run only in the one-off `migrate` step, never when web or the scheduler start.
set -eu

: "${PORT:=8000}"
: "${WEB_CONCURRENCY:=2}"
: "${GUNICORN_THREADS:=2}"  # 2 threads per worker: better p95 than 4 under CPU-bound load (docs/PERFORMANCE.md)
: "${GUNICORN_TIMEOUT:=60}"

case "${1:-web}" in
  web)
    set -- gunicorn wsgi:app -k gthread --bind "0.0.0.0:${PORT}" --workers "${WEB_CONCURRENCY}" \
      --threads "${GUNICORN_THREADS}" --timeout "${GUNICORN_TIMEOUT}" --access-logfile -
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
