# lapor-gateway: one image for `serve` (HTTP + pollers) and `worker` (dispatchers).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    LAPOR_HTTP_HOST=0.0.0.0 LAPOR_DATA_DIR=/var/lib/lapor LAPOR_LOG_FORMAT=json

# redis-server only for the embedded mode (no LAPOR_REDIS_URL); compose uses its own Redis
RUN apt-get update && apt-get install -y --no-install-recommends redis-server curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/lapor --create-home lapor

WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY channels channels
COPY normalizer normalizer
COPY dispatcher dispatcher
COPY config config
RUN pip install . && rm -rf /root/.cache

USER lapor
VOLUME ["/var/lib/lapor"]
EXPOSE 8708
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8708/healthz || exit 1
ENTRYPOINT ["lapor-gateway"]
CMD ["serve"]
