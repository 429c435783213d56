# qbwc-service: the SOAP endpoint, JSON API and admin pages under gunicorn.
# Build: docker build -t qbwc-service .   Run with PostgreSQL: docker compose up (see docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QBWC_INSTANCE_PATH=/app/instance \
    WEB_CONCURRENCY=2

WORKDIR /app

# A system user of its own: the service never runs as root.
RUN groupadd --system --gid 10001 qbwc \
    && useradd --system --uid 10001 --gid qbwc --home-dir /app --no-create-home --shell /usr/sbin/nologin qbwc

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY qbwc_service ./qbwc_service
COPY qbxml_builders ./qbxml_builders
COPY migrations ./migrations
COPY qwc_templates ./qwc_templates
COPY deploy/entrypoint.sh /usr/local/bin/qbwc-entrypoint
# Editable: the migrations and .qwc templates are read beside the package, from /app.
RUN pip install --no-cache-dir -e . \
    && mkdir -p /app/instance /app/logs \
    && chown qbwc:qbwc /app/instance /app/logs \
    && chmod 0755 /usr/local/bin/qbwc-entrypoint

USER 10001:10001
EXPOSE 8000
VOLUME ["/app/instance"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# Migrates the database (under an advisory lock on PostgreSQL), then execs gunicorn.
ENTRYPOINT ["qbwc-entrypoint"]
