#!/bin/sh
# Container entrypoint: `python manage.py <arguments>` (default `serve`), refusing to start without
# DATABASE_URL. Outside a container manage.py starts an embedded PostgreSQL when DATABASE_URL is unset;
# in the image that would put the whole database in the container's throwaway /data folder.
set -eu
if [ -z "${DATABASE_URL:-}" ]; then
    echo "error: DATABASE_URL is not set: the image needs an external PostgreSQL," \
        "postgresql://user:password@host:5432/dbname (in Kubernetes: a key of the secret in envFrom)" >&2
    exit 2
fi
cd "$(dirname "$0")/../.."
if [ "$#" -eq 0 ]; then
    set -- serve
fi
exec python manage.py "$@"
