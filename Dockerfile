# syntax=docker/dockerfile:1
# Multi-stage image (spec deployment.md §3): wheels built in the builder, no compilers at run time.
FROM python:3.11-slim AS builder
WORKDIR /build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FLASK_APP=wsgi.py \
    APP_ENV=production \
    PORT=8000 \
    MEDIA_ROOT=/data/media \
    IMPORT_DIR=/tmp/imports \
    SCHEDULER_HEARTBEAT_FILE=/tmp/scheduler-heartbeat
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 aremko \
    && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin aremko \
    && mkdir -p /data/media && chown 10001:10001 /data/media
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels /wheels/* && rm -rf /wheels
WORKDIR /app
COPY --chown=10001:10001 app/ app/
COPY --chown=10001:10001 migrations/ migrations/
COPY --chown=10001:10001 config.py wsgi.py docker-entrypoint.sh ./
RUN chmod 0755 /app/docker-entrypoint.sh
USER 10001
EXPOSE 8000
# Host: localhost, so the check passes TRUSTED_HOSTS (operators add localhost, as the chart does)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), headers={'Host': 'localhost'}), timeout=4)"
ENTRYPOINT ["/app/docker-entrypoint.sh"]
CMD ["web"]
