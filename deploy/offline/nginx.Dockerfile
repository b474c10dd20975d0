# Stand-in for nginx:1.27-alpine when no container registry is reachable (scripts/compose-check.sh): Debian
# bookworm's nginx (and wget, for the compose healthcheck) on the same base as the app image.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light wget \
    && rm -rf /var/lib/apt/lists/*
