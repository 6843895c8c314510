# syntax=docker/dockerfile:1
# mockbin as a container: docker build -t mockbin . && docker run -p 8080:8080 mockbin
# Configured entirely through MOCKBIN_* variables (docs/docker.md lists them).

ARG PYTHON_IMAGE=python:3.12-slim

# -- build: one wheel for mockbin and one per dependency ---------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml setup.cfg README.md ./
COPY mockbin ./mockbin
# The extras redis (MOCKBIN_STORE=redis://...) and fast (MOCKBIN_SERVER=granian,
# HTTP/2) are included, so every setting works in the image.
RUN pip wheel --wheel-dir /wheels ".[redis,fast]"

# -- runtime: the wheels installed offline, no compiler, no source tree -------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="mockbin" \
      org.opencontainers.image.description="A local, offline, httpbin-compatible mock HTTP server" \
      org.opencontainers.image.licenses="MIT"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONUNBUFFERED=1
# Exactly the wheels the build stage resolved, bind-mounted so that no layer
# keeps them; --no-index: nothing is fetched from the network here.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index /wheels/*.whl \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/mockbin mockbin \
    && install -d -o mockbin -g mockbin -m 0755 /var/lib/mockbin/ca

# MOCKBIN_TLS_SELF_SIGNED=1 serves HTTPS; point MOCKBIN_TLS_CA_FILE into
# /var/lib/mockbin/ca (owned by the mockbin user, so a named volume mounted
# there is writable) to share the CA with other containers.
# Listen on every interface of the container, on the port peers use (8080).
# The grace period stays below `docker stop`'s 10 s, so in-flight requests
# finish and mockbin exits 0 before Docker would send SIGKILL.
ENV MOCKBIN_HOST=0.0.0.0 \
    MOCKBIN_PORT=8080 \
    MOCKBIN_GRACEFUL_TIMEOUT=8
EXPOSE 8080
USER 10001:10001
WORKDIR /var/lib/mockbin

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --start-interval=1s --retries=3 \
    CMD ["mockbin", "healthcheck"]
CMD ["mockbin", "serve"]
