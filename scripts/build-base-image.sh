#!/usr/bin/env bash
# Builds a python:3.11-slim compatible base image from Debian bookworm packages (debootstrap), for machines that
# reach Debian's archive and PyPI but no container registry (scripts/image-check.sh). The result is cached as a
# local tag ($BASE_TAG): a second run returns at once.
#   Python 3.11 (`python`, `pip`), apt, useradd/groupadd, and this machine's CA certificates, so pip and apt work
#   inside `docker build` behind a TLS-inspecting egress proxy. No compiler (the builder stage installs its own).
set -euo pipefail
# The tag names this script's content: editing the script builds a new base, an unchanged one is reused.
BASE_TAG="${BASE_TAG:-aremko-base:bookworm-py311-$(sha256sum "$0" | cut -c1-12)}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKER="${DOCKER:-docker}"

if "$DOCKER" image inspect "$BASE_TAG" >/dev/null 2>&1; then
  echo "base image $BASE_TAG: cached"
  echo "$BASE_TAG" >"${BASE_TAG_FILE:-/dev/null}"
  exit 0
fi
command -v debootstrap >/dev/null 2>&1 || {
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
}
ROOT="$(mktemp -d /tmp/aremko-base.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT
echo "base image $BASE_TAG: debootstrap bookworm into $ROOT"
debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,python-is-python3,ca-certificates \
  bookworm "$ROOT" "$MIRROR" >/tmp/aremko-base-debootstrap.log 2>&1 || {
  tail -n 30 /tmp/aremko-base-debootstrap.log
  exit 1
}
# The machine's extra CA certificates (egress proxy): into the image's trust store, used by apt, pip and Python.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  chroot "$ROOT" update-ca-certificates >/dev/null
fi
# Same behaviour as the official image: pip installs into the system interpreter (no PEP 668 refusal).
rm -f "$ROOT"/usr/lib/python3*/EXTERNALLY-MANAGED
[ -e "$ROOT/usr/bin/pip" ] || ln -s pip3 "$ROOT/usr/bin/pip"
# Slim: no docs, manuals, locales, apt lists or caches.
rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/var/lib/apt/lists/* \
  "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/log/*.log
find "$ROOT"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n' \
  >"$ROOT/etc/dpkg/dpkg.cfg.d/01-slim"
# As Debian's official images: apt keeps no package caches (each `apt-get install` layer stays small).
cat >"$ROOT/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
tar -C "$ROOT" -c . | "$DOCKER" import \
  --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' - "$BASE_TAG" >/dev/null
echo "$BASE_TAG" >"${BASE_TAG_FILE:-/dev/null}"
echo "base image $BASE_TAG: built ($("$DOCKER" image inspect -f '{{.Size}}' "$BASE_TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
