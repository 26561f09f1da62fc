# syntax=docker/dockerfile:1
# The image of one taskgate service, built from the repository root with the package it runs and the
# extras it needs; docker-compose.yml builds all three, deploy/k8s runs them under the same names:
#   docker build --build-arg PACKAGE=api -t taskgate-api .
#   docker build --build-arg PACKAGE=worker --build-arg EXTRAS=thumbnail -t taskgate-worker .
#   docker build --build-arg PACKAGE=ops -t taskgate-flower .
# Every dependency is the version uv.lock pins, its hash checked; the image runs `taskgate-<PACKAGE>`.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ARG PACKAGE
# Comma-separated extras of the package: the worker's `thumbnail` (Pillow) hosts every shipped task type.
ARG EXTRAS=""
# The uv that installs from the lock; one that reads uv.lock's format.
ARG UV_VERSION=0.13.9
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    UV_PROJECT_ENVIRONMENT=/opt/taskgate UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy UV_NO_CACHE=1
# uv's options for the extras, kept for both syncs below.
RUN test -n "$PACKAGE" || { echo "build with --build-arg PACKAGE=api, worker or ops" >&2; exit 2; } \
    && pip install "uv==${UV_VERSION}" \
    && for extra in $(echo "$EXTRAS" | tr ',' ' '); do printf -- '--extra %s ' "$extra"; done > /extras
WORKDIR /src
# The lock and every member's pyproject.toml (uv reads the workspace from them), then the third-party
# dependencies alone: this layer is rebuilt only when a dependency changes, not on every code change.
COPY pyproject.toml uv.lock ./
COPY packages/contracts/pyproject.toml packages/contracts/
COPY packages/api/pyproject.toml packages/api/
COPY packages/worker/pyproject.toml packages/worker/
COPY packages/ops/pyproject.toml packages/ops/
COPY packages/client/pyproject.toml packages/client/
RUN uv sync --frozen --no-dev --no-install-workspace --package "taskgate-${PACKAGE}" $(cat /extras)
# Then the package and contracts, installed (not linked to /src) into the same environment, and one
# entry point name for every image (ENTRYPOINT cannot read a build argument).
COPY packages/contracts packages/contracts
COPY packages/${PACKAGE} packages/${PACKAGE}
RUN uv sync --frozen --no-dev --no-editable --package "taskgate-${PACKAGE}" $(cat /extras) \
    && ln -s "taskgate-${PACKAGE}" /opt/taskgate/bin/taskgate-service

FROM ${PYTHON_IMAGE}
ENV PYTHONUNBUFFERED=1 PATH=/opt/taskgate/bin:$PATH
# A user of its own; /data is where a service keeps state (Flower's history, FLOWER_DB), on a volume.
RUN useradd --system --uid 10001 --create-home taskgate \
    && mkdir /data && chown taskgate /data
COPY --from=builder /opt/taskgate /opt/taskgate
USER taskgate
WORKDIR /home/taskgate
ENTRYPOINT ["taskgate-service"]
