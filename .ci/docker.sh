#!/usr/bin/env bash
# .ci/docker.sh - build the image from this repository's Dockerfile and exercise the container as users run
# it (issue 9): the container checks of tests/docker/test_container.py, then the golden vendor tests and the
# journal/control tests in the suite's external-URL mode against a running container. Fails if any step fails.
#
# Engine: the one `docker info` already reaches; otherwise, as root, a private one started with
# the CI host's docker-ci.sh (DOCKER_CI; stopped again on exit). When no engine can be had it says so loudly and
# exits 0: only the container part is skipped.
#
# Env (all optional): PYTHON  interpreter with the package and its test extra (default: python3 on PATH)
#                     IMAGE   tag to build (default campaign-sandbox:ci)
#                     DOCKER_CI  path of the CI host's docker-ci.sh (a tool outside this repo)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
IMAGE=${IMAGE:-campaign-sandbox:ci}
DOCKER_CI=${DOCKER_CI:-../shared/tools/docker-ci.sh}
MAX_ADDED_MB=115  # ~101 MB measured 2026-11-30 (libraries stripped in the builder stage; jsonschema-rs and uvloop joined)
export DOCKER_BUILDKIT=1  # the Dockerfile bind-mounts the builder's wheels (RUN --mount)

say() { printf '[docker.sh] %s\n' "$*" >&2; }
skip_loudly() {
  printf '\n%s\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!' >&2
  printf '!!! WARNING: %s\n' "$@" >&2
  printf '%s\n\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!' >&2
  exit 0
}

NOT_BUILT="The Docker image was NOT built or tested; everything else in CI ran as usual."
ENGINE_ENV=""
CID=""
cleanup() {
  local rc=$?
  set +e
  [ -n "$CID" ] && docker rm -f -v "$CID" >/dev/null 2>&1
  if [ -n "$ENGINE_ENV" ]; then DOCKER_CI_ENV=$ENGINE_ENV "$DOCKER_CI" down >&2; rm -rf "$(dirname "$ENGINE_ENV")"; fi
  exit "$rc"
}
trap cleanup EXIT

# ---- 1. an engine ---------------------------------------------------------------------------------------
if ! { command -v docker >/dev/null && docker info >/dev/null 2>&1; }; then
  [ "$(id -u)" = 0 ] || skip_loudly "no Docker engine reachable and not root: cannot start one." "$NOT_BUILT"
  [ -x "$DOCKER_CI" ] || skip_loudly "no Docker engine reachable and no $DOCKER_CI to start one." "$NOT_BUILT"
  # A private env file, so an engine someone else started with docker-ci.sh is neither reused nor stopped.
  ENGINE_ENV=$(mktemp -d)/env
  say "starting a private Docker engine with $DOCKER_CI (about 2 minutes on a fresh machine)"
  if ! DOCKER_CI_ENV=$ENGINE_ENV "$DOCKER_CI" up >&2; then
    ENGINE_ENV=""
    skip_loudly "$DOCKER_CI up failed (see above): no Docker engine." "$NOT_BUILT"
  fi
  # shellcheck disable=SC1090
  . "$ENGINE_ENV"
fi
NETWORK=${DOCKER_CI_NETWORK:-}  # "host" where docker-ci.sh could not set up a bridge
NETFLAG=()
[ -n "$NETWORK" ] && NETFLAG=(--network="$NETWORK")
export DOCKER_CI_NETWORK=$NETWORK

# ---- 2. build, and what the image adds to its base -------------------------------------------------------
say "docker build -t $IMAGE ."
docker build "${NETFLAG[@]}" -t "$IMAGE" .
BASE=$(awk 'toupper($1)=="FROM" {for (i=2;i<=NF;i++) if ($i !~ /^--/) {ref=$i; break}} END {print ref}' Dockerfile)
image_size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
base_size=$(docker image inspect -f '{{.Size}}' "$BASE")
base_layers=$(docker history -q "$BASE" | wc -l)
image_layers=$(docker history -q "$IMAGE" | wc -l)
say "layers $IMAGE adds to $BASE:"
history=$(docker history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE")
head -n "$((image_layers - base_layers))" <<<"$history" | awk -F'\t' '{printf "    %8s  %.110s\n", $1, $2}' >&2
added_mb=$(( (image_size - base_size) / 1000000 ))
say "$IMAGE adds ${added_mb} MB to $BASE (limit ${MAX_ADDED_MB} MB)"
[ "$added_mb" -le "$MAX_ADDED_MB" ] || { say "FAIL: the image adds more than ${MAX_ADDED_MB} MB"; exit 1; }

# ---- 3. the container checks ----------------------------------------------------------------------------
say "container checks: tests/docker/test_container.py against $IMAGE"
SANDBOX_DOCKER_IMAGE=$IMAGE "$PYTHON" -m pytest -q -rs -m docker tests/docker/test_container.py

# ---- 4. the suite's external-URL mode against a running container ----------------------------------------
if ! grep -q sandbox-url sandbox/pytest_plugin.py; then
  skip_loudly "sandbox/pytest_plugin.py has no --sandbox-url yet: the golden and control tests were not run" \
              "against the container (the image itself was built and checked above)."
fi
if [ -n "$NETWORK" ]; then
  port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  CID=$(docker run -d "${NETFLAG[@]}" -e SANDBOX_PORT="$port" "$IMAGE")
else
  CID=$(docker run -d -p 127.0.0.1::8080 "$IMAGE")
  port=$(docker port "$CID" 8080/tcp | head -n1 | sed 's/.*://')
fi
for _ in $(seq 1 100); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$CID")" = healthy ] && break
  sleep 0.2
done
[ "$(docker inspect -f '{{.State.Health.Status}}' "$CID")" = healthy ] \
  || { docker logs "$CID" >&2; say "FAIL: container not healthy after 20 s"; exit 1; }
say "golden vendor tests and control tests with --sandbox-url http://127.0.0.1:$port"
"$PYTHON" -m pytest -q --sandbox-url "http://127.0.0.1:$port" tests/providers/test_golden.py tests/control
say "OK: image built and exercised"
