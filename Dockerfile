# syntax=docker/dockerfile:1
# langfuse-ui server image: `docker build -t langfuse-ui .` then see docs/deploy.md.
# The container needs an external PostgreSQL (DATABASE_URL) and SECRET_KEY (or NEXTAUTH_SECRET) and SALT
# at run time; none of them is baked in. Start-up = wait for the database, migrate under an advisory lock,
# load the default model prices, serve on port 3000 (`manage.py serve`).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: dependencies into a virtualenv, static files collected --------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app
# Dependencies first (a layer that survives code changes): `pip install .` of the metadata alone installs
# every dependency pyproject.toml names, and the then empty project itself is removed again. The code
# runs from /app, where settings.py finds templates/, static/ and traces/model_prices.json next to it.
COPY pyproject.toml README.md ./
RUN pip install . && pip uninstall --yes langfuse-ui
COPY manage.py ./
COPY langfuse_ui ./langfuse_ui
COPY accounts ./accounts
COPY traces ./traces
COPY prompts ./prompts
COPY templates ./templates
COPY static ./static
COPY deploy/docker ./deploy/docker
# Production settings need a secret key, a salt and a DATABASE_URL to load; these throwaway values live
# only in this one command (nothing connects to the database while collecting static files).
RUN DEBUG=false SECRET_KEY=collectstatic-only SALT=collectstatic-only \
    DATABASE_URL=postgresql://collectstatic@127.0.0.1:1/unused STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput --verbosity 0 \
    && python -m compileall -q /app

# --- runtime ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="langfuse-ui" \
      org.opencontainers.image.description="Self-hosted, Langfuse-API-compatible LLM observability server"
RUN groupadd --system --gid 10001 langfuse \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin langfuse \
    && mkdir -p /data \
    && chown 10001:10001 /data
# Code and dependencies belong to root and are read-only for the server user; only /data is writable.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DEBUG=false \
    HOST=0.0.0.0 \
    PORT=3000 \
    STATIC_ROOT=/app/staticfiles \
    LANGFUSE_DATA_DIR=/data
WORKDIR /app
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]
# The entrypoint refuses to start without DATABASE_URL, then runs `python manage.py <arguments>`:
# `docker run IMAGE` serves; `docker run IMAGE backup --bucket NAME` or `... purge_retention` run jobs.
ENTRYPOINT ["/app/deploy/docker/entrypoint.sh"]
CMD ["serve"]
