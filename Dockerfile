# syntax=docker/dockerfile:1
#
# One image for every Reelforge process. The entrypoint runs the `reelforge` CLI as uid
# 10001 (deploy/entrypoint.sh; it fixes a root-owned volume's ownership first):
#   docker run IMAGE                      -> reelforge serve --host 0.0.0.0 --port 8000
#   docker run IMAGE worker               -> standalone arq worker, metrics on :9091/metrics
#   docker run IMAGE migrate              -> Alembic upgrade head (idempotent)
#   docker run IMAGE token --help         -> mint a bearer token
#
# Layers are ordered so that a source change rebuilds only the last, small layers: the
# dependency wheels depend on pyproject.toml alone.

ARG PYTHON_VERSION=3.12
ARG NODE_VERSION=20

# --------------------------------------------------------------------------------------
# web: Reelforge Studio and GraphiQL built from web/ (pinned by package-lock.json). Only
# the built files (reelforge/studio/dist) leave this stage; Node stays out of the runtime.
# --------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS web

WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
COPY web/packages/client/package.json ./packages/client/
COPY web/studio/package.json ./studio/
RUN npm ci --no-audit --no-fund
COPY schema.graphql /src/schema.graphql
COPY web/ ./
RUN npm run codegen:check && npm run build -w @reelforge/studio

# --------------------------------------------------------------------------------------
# builder: wheels for the dependencies (cached), then the project's own wheel.
# The full (non-slim) image carries a compiler in case a dependency has no wheel for
# this platform; none of it reaches the runtime image.
# --------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src

# 1. Dependencies only: read the list from pyproject.toml, build every wheel.
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; print(*deps, sep=chr(10))" > requirements.txt \
    && pip wheel --no-cache-dir --wheel-dir /wheels/deps -r requirements.txt \
    && cp requirements.txt /wheels/deps/requirements.txt

# 2. The project itself (its dependencies are already wheels above). `README.md*` keeps
#    the build working before the README exists (pyproject.toml names it as the readme).
COPY pyproject.toml README.md* ./
COPY reelforge ./reelforge
COPY --from=web /src/reelforge/studio/dist ./reelforge/studio/dist
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels/app .

# --------------------------------------------------------------------------------------
# runtime: slim Debian, Debian's FFmpeg, a virtualenv, a non-root user.
# --------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

# FFmpeg comes from Debian's security-maintained archive. Versions are deliberately not
# pinned (DL3008): an exact Debian version disappears from the mirror as soon as a
# security update lands, which would break every rebuild; the base image tag pins the
# Debian release instead.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 reelforge \
    && useradd --system --uid 10001 --gid reelforge --home-dir /home/reelforge \
       --create-home --shell /usr/sbin/nologin reelforge \
    && mkdir -p /data \
    && chown reelforge:reelforge /data

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    VIDEO_STORAGE_PATH=/data

RUN python -m venv /opt/venv

# Dependencies: this layer changes only when pyproject.toml's dependency list changes.
RUN --mount=type=bind,from=builder,source=/wheels/deps,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels -r /wheels/requirements.txt

# The application wheel, then a consistency check of the whole environment.
RUN --mount=type=bind,from=builder,source=/wheels/app,target=/wheels \
    pip install --no-cache-dir --no-index --no-deps /wheels/*.whl \
    && pip check

# Backup helpers, so `docker compose exec api` / `fly ssh console` can run them.
COPY deploy/backup/ /opt/reelforge/backup/
COPY --chmod=755 deploy/entrypoint.sh /usr/local/bin/reelforge-entrypoint

WORKDIR /home/reelforge
# No USER: the entrypoint starts as root only to give a root-owned volume at /data to uid
# 10001, then drops root for good (setpriv) before running reelforge. `--user 10001` works
# too (the entrypoint then runs reelforge directly).

# The scratch folder; on a single machine also media (STORAGE_URL unset), the SQLite
# database (DATABASE_URL unset) and embedded Valkey's data.
VOLUME /data

# 8000: API (/graphql, /healthz, /readyz, /metrics); 9091: `reelforge worker` metrics.
EXPOSE 8000 9091

# Liveness of the API process. The `worker` command has no HTTP API on 8000: compose
# overrides this check for it (GET :9091/metrics); Fly ignores HEALTHCHECK and uses the
# checks in fly.toml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["reelforge-entrypoint"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
