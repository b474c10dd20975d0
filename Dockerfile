# Multi-stage image (spec deployment.md §3): dependencies built in the builder, no compilers at run time.
# BASE_IMAGE: the official python:3.11-slim by default; scripts/image-check.sh passes a compatible base built from
# Debian bookworm packages (scripts/build-base-image.sh) when no container registry can be reached.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE} AS builder
WORKDIR /build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
# One virtualenv (no pip inside, no .pyc: 60 MB less; the read-only root FS could not keep them anyway), copied whole
# into the runtime stage. Trimmed of what the app never loads (the image stays under 250 MB): phonenumbers' geocoding,
# carrier and time-zone data (20 MB; app/core/phone.py only parses and formats), the packages' own test suites,
# Babel's locales other than the app's (es, en and their root: 30 MB), and Flask-Admin's static files its Bootstrap 4
# theme never links (Font Awesome 5, 14 MB: the theme uses Font Awesome 4 from bootstrap/bootstrap4/; the Bootswatch
# themes other than `default`, the one app/admin uses).
RUN python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --no-cache-dir --no-compile -r requirements.txt \
    && find /opt/venv -name '__pycache__' -type d -prune -exec rm -rf {} + \
    && find /opt/venv/lib/python3*/site-packages -mindepth 2 -maxdepth 2 -type d -name tests -exec rm -rf {} + \
    && rm -rf /opt/venv/lib/python3*/site-packages/phonenumbers/geodata \
        /opt/venv/lib/python3*/site-packages/phonenumbers/carrierdata \
        /opt/venv/lib/python3*/site-packages/phonenumbers/tzdata \
        /opt/venv/lib/python3*/site-packages/flask_admin/static/vendor/fontawesome-free-5.1.0-web \
    && find /opt/venv/lib/python3*/site-packages/flask_admin/static/bootstrap/bootstrap4/swatch -mindepth 1 \
        -maxdepth 1 -type d ! -name default -exec rm -rf {} + \
    && find /opt/venv/lib/python3*/site-packages/babel/locale-data -type f \
        ! -name 'root.dat' ! -name 'es.dat' ! -name 'es_*.dat' ! -name 'en.dat' ! -name 'en_*.dat' -delete

FROM ${BASE_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FLASK_APP=wsgi.py \
    APP_ENV=production \
    PORT=8000 \
    MEDIA_ROOT=/data/media \
    IMPORT_DIR=/tmp/imports \
    SCHEDULER_HEARTBEAT_FILE=/tmp/scheduler-heartbeat \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    PATH=/opt/venv/bin:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 aremko \
    && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin aremko \
    && mkdir -p /data/media && chown 10001:10001 /data/media
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY --chown=10001:10001 app/ app/
COPY --chown=10001:10001 migrations/ migrations/
COPY --chown=10001:10001 config.py wsgi.py gunicorn.conf.py docker-entrypoint.sh ./
# WhiteNoise serves these .br/.gz variants of the static files (app/web/assets.py); the image's root FS is read-only.
RUN chmod 0755 /app/docker-entrypoint.sh && python -m whitenoise.compress -q /app/app/static
USER 10001
EXPOSE 8000
# Host: localhost, so the check passes TRUSTED_HOSTS (operators add localhost, as the chart does)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), headers={'Host': 'localhost'}), timeout=4)"
ENTRYPOINT ["/app/docker-entrypoint.sh"]
CMD ["web"]
