# campaign-sandbox: the CleverTap / Braze / Netcore campaign API sandbox, as a container for CI.
#   docker build -t campaign-sandbox .
#   docker run -d -p 127.0.0.1:8080:8080 campaign-sandbox
# Configure it with SANDBOX_* environment variables (SANDBOX_SEED, SANDBOX_ACCOUNTS, SANDBOX_POPULATION_SIZE,
# SANDBOX_LOG_FORMAT, SANDBOX_PORT, ...; see `campaign-sandbox serve --help`). Needs BuildKit (RUN --mount).

# ---- builder: wheels of the package and of every runtime dependency, their libraries stripped -----------
FROM python:3.11-slim AS builder
# Compiled dependencies ship their libraries with symbols (uvloop's is 14 MB, mostly symbols): binutils'
# strip takes them out, and wheel packs the wheels again (new RECORD hashes). Libraries grafted in by
# auditwheel (`<package>.libs/`, numpy's OpenBLAS) stay as they are: stripping them breaks their loading.
# Debian's binutils and wheel versions follow the base image; nothing of either reaches the final image.
# hadolint ignore=DL3008,DL3013
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore wheel
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --disable-pip-version-check --wheel-dir /wheels . \
    && mkdir /unpacked \
    && for wheel in /wheels/*.whl; do python -m wheel unpack --dest /unpacked "$wheel"; done \
    && find /unpacked -type f \( -name '*.so' -o -name '*.so.*' \) -not -path '*.libs/*' \
         -exec strip --strip-unneeded {} + \
    && rm /wheels/*.whl \
    && for tree in /unpacked/*/; do python -m wheel pack --dest-dir /wheels "$tree"; done

# ---- final: only the installed wheels, a non-root user and a volume --------------------------------------
FROM python:3.11-slim
ARG VERSION=0.1.0
ARG SOURCE=https://github.com/campaign-sandbox/campaign-sandbox
LABEL org.opencontainers.image.title="campaign-sandbox" \
      org.opencontainers.image.description="Local sandbox of the CleverTap, Braze and Netcore campaign APIs, for CI" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

# The wheels are bind-mounted from the builder, so neither they nor pip's cache end up in a layer; the
# dependencies' own test suites (numpy's alone is ~15 MB) are dropped: nothing imports them.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --disable-pip-version-check --root-user-action=ignore /wheels/*.whl \
    && find /usr/local/lib -depth -type d -name tests -path '*-packages/*' -exec rm -rf {} + \
    && useradd --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin sandbox \
    && mkdir /data \
    && chown sandbox:sandbox /data

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SANDBOX_DATA_DIR=/data
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8080

# Python's urllib, no curl. Every second: healthy within ~1 s of listening. Change the port with SANDBOX_PORT
# (not --port) so this check follows it.
HEALTHCHECK --interval=1s --timeout=2s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os,sys,json,urllib.request as u; r=u.urlopen('http://127.0.0.1:'+os.environ.get('SANDBOX_PORT','8080')+'/_sandbox/health',timeout=2); sys.exit(json.load(r).get('status')!='ok')"]

ENTRYPOINT ["campaign-sandbox", "serve", "--host", "0.0.0.0"]
