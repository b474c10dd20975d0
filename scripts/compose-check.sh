#!/usr/bin/env bash
# The compose check of .ci/run and `make compose-check` (docs/OPERATIONS.md "Compose"): docker-compose.yml up as an
# operator runs it (db -> migrate -> web + one scheduler, the proxy the only published port), a booking made through
# the proxy and the web container, `docker-compose restart web`, and the booking still there.
# Uses the app image of scripts/image-check.sh (aremko:ci, tagged aremko:local; built here when missing). Without a
# container registry the db and proxy images are built from Debian packages (deploy/offline/, compose.offline.yml).
# Runs in a scratch copy of the compose file and deploy/ with its own .env (a developer's .env is never touched) and
# the project name aremkocheck; everything, volumes included, is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
PY="${PYTHON:-$REPO/.venv/bin/python}"
PROJECT=aremkocheck
BASE="http://127.0.0.1:8080"
WORK="$(mktemp -d /tmp/aremko-compose.XXXXXX)"
SECONDS=0
step() { printf '\n== compose check [%3ds] %s\n' "$SECONDS" "$*"; }
SUDO=$([ "$(id -u)" = "0" ] || echo sudo)

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1; then
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q docker.io docker-compose >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  $SUDO sh -c 'nohup dockerd >/var/log/dockerd-ci.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
cp docker-compose.yml .env.example "$WORK/"
cp -r deploy "$WORK/deploy"
cd "$WORK"
compose() { docker-compose -p "$PROJECT" "${FILES[@]}" "$@"; }
FILES=(-f docker-compose.yml)
fail() {
  echo "COMPOSE CHECK FAILED: $*" >&2
  compose ps >&2 || true
  compose logs --tail 30 >&2 || true
  exit 1
}
cleanup() {
  cd "$WORK" && docker-compose -p "$PROJECT" "${FILES[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  cd / && rm -rf "$WORK"
}
trap cleanup EXIT

step "images"
if ! docker image inspect aremko:ci >/dev/null 2>&1; then
  IMAGE_CHECK_ONLY_BUILD=1 "$REPO/scripts/image-check.sh" >/dev/null
fi
docker tag aremko:ci aremko:local
if docker image inspect postgres:16-alpine >/dev/null 2>&1 && docker image inspect nginx:1.27-alpine >/dev/null 2>&1 \
  || { timeout 60 docker pull -q postgres:16-alpine && timeout 60 docker pull -q nginx:1.27-alpine; } >/dev/null 2>&1; then
  echo "db and proxy: the official images"
else
  tagfile="$(mktemp)"
  BASE_TAG_FILE="$tagfile" "$REPO/scripts/build-base-image.sh" >/dev/null
  base_image="$(cat "$tagfile")"
  rm -f "$tagfile"
  DOCKER_BUILDKIT=0 docker build -q --build-arg BASE_IMAGE="$base_image" -t aremko-offline/postgres:15-bookworm \
    -f deploy/offline/postgres.Dockerfile deploy/offline >/dev/null
  DOCKER_BUILDKIT=0 docker build -q --build-arg BASE_IMAGE="$base_image" -t aremko-offline/nginx:bookworm \
    -f deploy/offline/nginx.Dockerfile deploy/offline >/dev/null
  FILES+=(-f deploy/compose.offline.yml)
  echo "no container registry: db and proxy built from Debian packages (deploy/offline/)"
fi

step "docker-compose config and up"
sed "s/^SECRET_KEY=.*/SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_hex(32))')/" .env.example >.env
grep -q '^SECRET_KEY=.\{64\}$' .env || fail ".env.example has no SECRET_KEY= line"
compose config -q || fail "docker-compose config"
compose up -d --no-build || fail "docker-compose up"
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null -H 'Host: localhost' "$BASE/readyz" 2>/dev/null && break
  sleep 2
done
curl -fsS -H 'Host: localhost' "$BASE/readyz" | grep -q '"ok"' || fail "/readyz through the proxy"
[ "$(docker inspect -f '{{.State.ExitCode}}' "$(compose ps -q migrate)")" = "0" ] || fail "migrate did not succeed"
[ "$(compose ps -q scheduler | wc -l)" = "1" ] || fail "not exactly one scheduler"
for _ in $(seq 1 60); do
  compose logs scheduler 2>/dev/null | grep -q 'es el líder' && break
  sleep 2
done
compose logs scheduler | grep -q 'es el líder' || fail "the scheduler did not become leader"
for _ in $(seq 1 40); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$(compose ps -q web)")" = "healthy" ] && break
  sleep 3
done
[ "$(docker inspect -f '{{.State.Health.Status}}' "$(compose ps -q web)")" = "healthy" ] || fail "web not healthy"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost' "$BASE/metrics")" = "404" ] \
  || fail "/metrics reachable through the proxy"
echo "stack up: migrate exited 0, web healthy, one scheduler (leader), proxy on $BASE"

step "seed-demo and a booking through the proxy"
compose run --rm --no-deps web seed-demo >/dev/null || fail "docker-compose run web seed-demo"
booking="$("$PY" "$REPO/scripts/compose_booking.py" book "$BASE")" || fail "booking"
echo "booked: $booking (order page, day, hour)"

step "docker-compose restart web"
compose restart web >/dev/null
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null -H 'Host: localhost' "$BASE/readyz" 2>/dev/null && break
  sleep 2
done
# shellcheck disable=SC2086  # path, day and hour: three words
"$PY" "$REPO/scripts/compose_booking.py" check "$BASE" $booking || fail "the booking is gone after restart"
echo "the booking is still there after the restart"

step "done: compose check passed in ${SECONDS} s"
