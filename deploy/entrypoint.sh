#!/bin/sh
# The container's start: read secrets from files, migrate the database, then serve.
set -eu

# VAR_FILE names a file holding VAR (Docker or Kubernetes secrets), as the postgres image does.
for name in QBWC_SECRET_KEY QBWC_METRICS_TOKEN QBWC_DATABASE_URL PGPASSWORD; do
    file=$(printenv "${name}_FILE" || true)
    if [ -n "$file" ]; then
        value=$(cat "$file")
        export "$name=$value"
    fi
done

# Several containers may start at once: on PostgreSQL the migrations take an advisory lock.
qbwc-service db upgrade
exec qbwc-service serve --bind "0.0.0.0:8000" --workers "${WEB_CONCURRENCY:-2}"
