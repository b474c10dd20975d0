#!/usr/bin/env bash
# The image check of .ci/run and `make image` (docs/OPERATIONS.md "Docker"): builds the project's Dockerfile and runs
# every container command against the CI's PostgreSQL, failing on the first broken step.
#   1. the Docker engine: installed (Debian's docker.io) and started when none runs;
#   2. the base: python:3.11-slim when a registry answers, else a compatible base built from Debian bookworm packages
#      (scripts/build-base-image.sh, cached as a local tag);
#   3. `docker build`; the image's size (printed, < 250 MB) and no compiler in it;
#   4. `migrate` on a fresh database, `web` (as uid 10001, read-only root FS, no capabilities): /healthz, /readyz,
#      the home page, login, a hashed static file in Brotli, /metrics, the image's own HEALTHCHECK;
#      `scheduler` elects itself leader and beats; `seed-demo` fills the database.
# Settings: IMAGE_TAG (aremko:ci), BASE_IMAGE (skip the detection), IMAGE_CHECK_DB (aremko_image_check, dropped at
# the end), PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres), IMAGE_MAX_MB (250).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE_TAG="${IMAGE_TAG:-aremko:ci}"
DB_NAME="${IMAGE_CHECK_DB:-aremko_image_check}"
PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER
MAX_MB="${IMAGE_MAX_MB:-250}"
WEB_PORT="${IMAGE_CHECK_PORT:-18000}"
NAME="aremko-check-$$"
SECONDS=0
step() { printf '\n== image check [%3ds] %s\n' "$SECONDS" "$*"; }
fail() {
  echo "IMAGE CHECK FAILED: $*" >&2
  for c in "$NAME-web" "$NAME-scheduler"; do
    if docker container inspect "$c" >/dev/null 2>&1; then
      echo "--- last logs of $c" >&2
      docker logs --tail 40 "$c" >&2 || true
    fi
  done
  exit 1
}
cleanup() {
  docker rm -f "$NAME-web" "$NAME-scheduler" >/dev/null 2>&1 || true
  dropdb --if-exists "$DB_NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "Docker engine"
SUDO=$([ "$(id -u)" = "0" ] || echo sudo)
if ! command -v dockerd >/dev/null 2>&1; then
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  $SUDO sh -c 'nohup dockerd >/var/log/dockerd-ci.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not start (see /var/log/dockerd-ci.log)"
fi
docker version --format 'engine {{.Server.Version}}'

step "base image"
if [ -z "${BASE_IMAGE:-}" ]; then
  if docker image inspect python:3.11-slim >/dev/null 2>&1 || timeout 60 docker pull -q python:3.11-slim >/dev/null 2>&1; then
    BASE_IMAGE=python:3.11-slim
  else
    echo "no container registry reachable: building the base from Debian bookworm packages"
    tagfile="$(mktemp)"
    BASE_TAG_FILE="$tagfile" scripts/build-base-image.sh
    BASE_IMAGE="$(cat "$tagfile")"
    rm -f "$tagfile"
  fi
fi
echo "base: $BASE_IMAGE"

step "docker build $IMAGE_TAG"
build_started=$SECONDS
DOCKER_BUILDKIT=0 docker build -q --build-arg BASE_IMAGE="$BASE_IMAGE" -t "$IMAGE_TAG" . >/dev/null \
  || fail "docker build"
echo "built in $((SECONDS - build_started)) s"
size_mb=$(docker image inspect -f '{{.Size}}' "$IMAGE_TAG" | awk '{printf "%d", $1 / 1000000}')
echo "image size: ${size_mb} MB (limit ${MAX_MB} MB)"
[ "$size_mb" -lt "$MAX_MB" ] || fail "image is ${size_mb} MB, over ${MAX_MB} MB"
docker run --rm --entrypoint sh "$IMAGE_TAG" -c \
  'for c in gcc cc c++ g++ make; do if command -v $c >/dev/null; then echo "compiler in the image: $c"; exit 1; fi; done' \
  || fail "the runtime image has a compiler"
[ "$(docker image inspect -f '{{.Config.User}}' "$IMAGE_TAG")" = "10001" ] || fail "the image does not run as 10001"
[ -z "${IMAGE_CHECK_ONLY_BUILD:-}" ] || exit 0  # scripts/compose-check.sh on its own: the image is all it needs

step "fresh database $DB_NAME"
dropdb --if-exists "$DB_NAME" >/dev/null
createdb "$DB_NAME"
ENVFILE="$(mktemp)"
trap 'cleanup; rm -f "$ENVFILE"' EXIT
cat >"$ENVFILE" <<ENV
APP_ENV=production
SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
DATABASE_URL=postgresql://$PGUSER@$PGHOST:$PGPORT/$DB_NAME
PUBLIC_BASE_URL=http://127.0.0.1:$WEB_PORT
FLOW_MODE=fake
SMS_BACKEND=console
EMAIL_BACKEND=console
ALLOW_FAKE_BACKENDS_IN_PRODUCTION=1
SESSION_COOKIE_SECURE=false
ALLOW_INSECURE_COOKIES_IN_PRODUCTION=1
RATELIMIT_ENABLED=false
ADMIN_USERNAME=admin
ADMIN_EMAIL=admin@example.com
ADMIN_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
DEMO_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
SCHEDULER_TICK_SECONDS=2
ENV
# The hardening of the chart's pods: uid 10001, read-only root FS, /tmp a tmpfs, no capabilities, no new privileges.
RUN=(--network host --env-file "$ENVFILE" --read-only --tmpfs /tmp:rw,mode=1777 --cap-drop ALL
  --security-opt no-new-privileges --mount type=tmpfs,destination=/data/media,tmpfs-mode=1777)

step "migrate"
docker run --rm "${RUN[@]}" "$IMAGE_TAG" migrate || fail "migrate"

step "web"
docker run -d --name "$NAME-web" "${RUN[@]}" -e PORT="$WEB_PORT" -e WEB_CONCURRENCY=2 \
  --health-interval 2s --health-start-period 1s "$IMAGE_TAG" web >/dev/null
base="http://127.0.0.1:$WEB_PORT"
for _ in $(seq 1 90); do curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break; sleep 1; done
curl -fsS -o /dev/null "$base/healthz" || fail "/healthz"
curl -fsS "$base/readyz" | grep -q '"ok"' || fail "/readyz: $(curl -sS "$base/readyz")"
home="$(curl -fsS "$base/")" || fail "home page"
curl -fsS "$base/accounts/login/" | grep -q 'name="password"' || fail "login page"
css="$(grep -o '/static/css/app\.[0-9a-f]\{12\}\.css' <<<"$home" | head -n1)"
[ -n "$css" ] || fail "no hashed stylesheet on the home page"
headers="$(curl -fsS -D - -o /dev/null -H 'Accept-Encoding: br' "$base$css")" || fail "$css"
grep -qi '^content-encoding: br' <<<"$headers" || fail "$css not served with Brotli"
grep -qi 'immutable' <<<"$headers" || fail "$css not immutable"
[ "$(docker exec "$NAME-web" id -u)" = "10001" ] || fail "web does not run as uid 10001"
if docker exec "$NAME-web" sh -c 'touch /app/probe' 2>/dev/null; then fail "the root file system is writable"; fi
for _ in $(seq 1 30); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$NAME-web")" = "healthy" ] && break
  sleep 1
done
[ "$(docker inspect -f '{{.State.Health.Status}}' "$NAME-web")" = "healthy" ] || fail "the image's HEALTHCHECK"
echo "web ok: /healthz /readyz / /accounts/login/ $css (br, immutable), uid 10001, read-only root, healthy"

step "scheduler"
docker run -d --name "$NAME-scheduler" "${RUN[@]}" "$IMAGE_TAG" scheduler >/dev/null
for _ in $(seq 1 60); do
  docker logs "$NAME-scheduler" 2>&1 | grep -q 'es el líder' && break
  sleep 1
done
docker logs "$NAME-scheduler" 2>&1 | grep -q 'es el líder' || fail "the scheduler did not become leader"
docker exec "$NAME-scheduler" test -f /tmp/scheduler-heartbeat || fail "no scheduler heartbeat"
metrics="$(curl -fsS "$base/metrics")" || fail "/metrics"
for series in aremko_http_requests_total aremko_http_request_duration_seconds_bucket aremko_outbox_backlog \
  aremko_webhook_backlog aremko_cart_holds_active 'aremko_scheduler_leader 1.0' \
  aremko_scheduler_heartbeat_timestamp_seconds; do
  grep -q "^$series" <<<"$metrics" || fail "/metrics lacks $series"
done
echo "scheduler ok: leader, heartbeat; /metrics ok (both gunicorn workers' counters, database gauges)"

step "seed-demo"
docker run --rm "${RUN[@]}" "$IMAGE_TAG" seed-demo >/dev/null || fail "seed-demo"  # (prints the demo passwords)
curl -fsS "$base/" | grep -q 'Tina' || fail "the home page does not show the demo services"

step "done: image check passed in ${SECONDS} s (image ${size_mb} MB)"
