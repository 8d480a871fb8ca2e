# syntax=docker/dockerfile:1
# lapor-gateway: one image for `serve` (HTTP + pollers) and `worker` (dispatchers).
# Built from the hash-pinned lock file (requirements.lock, `make lock` regenerates it) on a base image
# pinned by digest. To move the base: `docker buildx imagetools inspect python:3.11-slim-bookworm`,
# then replace the digest below in BOTH stages' ARG default.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

# ---- build: dependencies from the lock (hashes required), then the project's own wheel
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY gateway gateway
COPY channels channels
COPY normalizer normalizer
COPY dispatcher dispatcher
COPY config config
RUN /opt/venv/bin/pip install --no-deps . && /opt/venv/bin/lapor-gateway --version

# ---- runtime: the virtual environment, redis-server for the embedded mode, a non-root user
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    LAPOR_HTTP_HOST=0.0.0.0 LAPOR_DATA_DIR=/var/lib/lapor LAPOR_LOG_FORMAT=json
# redis-server only for the embedded mode (no LAPOR_REDIS_URL); compose and Kubernetes use their own Redis
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/lapor --create-home lapor
COPY --from=build /opt/venv /opt/venv
USER 10001
WORKDIR /var/lib/lapor
VOLUME ["/var/lib/lapor"]
EXPOSE 8708 9708
# serve answers /healthz; a `worker` container overrides this with `lapor-gateway status --worker`
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8708/healthz', timeout=2)"]
ENTRYPOINT ["lapor-gateway"]
CMD ["serve"]
