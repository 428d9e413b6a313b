# cache-api: an in-memory object cache served over HTTP.
#
#   docker build -t cache-api .
#   docker run --rm -p 8080:8080 -e CACHE_MAX_MEMORY=256mb cache-api
#
# Every setting is a CACHE_<NAME> environment variable. The image holds no
# instance/config.py: mount one read-only at /app/instance/config.py (APP_ENV
# picks its class), or point CACHE_CONFIG_FILE at another path.
# Stage 1: compile the request path with mypyc (setup.py) into a wheel. The
# compiler and headers stay in this stage; the image below gets only the wheel.
FROM python:3.11-slim AS build

# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev python3-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY cache_api/ cache_api/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: the runtime image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# Then cache-api itself, from the compiled wheel (no source tree in /app to shadow it).
COPY --from=build /wheels /wheels
COPY wsgi.py ./
RUN pip install --no-cache-dir --no-deps /wheels/*.whl \
 && rm -rf /wheels \
 && mkdir -p instance \
 && useradd --no-log-init --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin cache

USER 10001

ENV APP_ENV=production \
    CACHE_HOST=0.0.0.0 \
    CACHE_PORT=8080

EXPOSE 8080

# No curl in slim images: the probe is Python, reading the same settings as the server.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-m", "cache_api.probe"]

# SIGTERM: /health turns 503, SHUTDOWN_DELAY passes, in-flight answers finish, exit 0.
STOPSIGNAL SIGTERM
CMD ["python", "wsgi.py"]
