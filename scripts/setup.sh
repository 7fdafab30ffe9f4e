#!/usr/bin/env bash
# Sets up everything a fresh machine needs, skipping what is already there:
#   1. Debian packages (compiler, C++ libraries, PostgreSQL server for the tests)
#   2. the virtual environment ./.venv with the Python dependencies of pyproject.toml
#   3. an editable build of aadap in build/dev (incremental: ccache + one build directory)
# Idempotent; safe to run again after every change.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache hits across clones in different folders (CI clones afresh every run).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

APT_PACKAGES=(
  build-essential pkg-config ccache git
  python3-venv python3-dev
  libpqxx-dev libpq-dev
  libfaiss-dev libopenblas0-pthread libopenblas-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev
  libcurl4-openssl-dev libsqlite3-dev libssl-dev
  libgtest-dev libgmock-dev
  postgresql
)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "Debian packages: all present"
fi

PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  log "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
VENV_PY=.venv/bin/python

# Python dependencies: build requirements, runtime dependencies and the dev extra, read from
# pyproject.toml (one source of truth). Reinstalled only when pyproject.toml changes.
stamp=.venv/.aadap-deps.sha256
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  log "installing Python dependencies"
  "$VENV_PY" -m pip install -q --upgrade pip
  mapfile -t deps < <("$VENV_PY" - <<'PY'
import tomllib
with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)
extras = project["project"]["optional-dependencies"]
for req in project["build-system"]["requires"] + project["project"]["dependencies"] + extras["dev"]:
    print(req)
print("cmake>=3.20")
print("ninja")
PY
  )
  "$VENV_PY" -m pip install -q "${deps[@]}"
  echo "$want" >"$stamp"
else
  log "Python dependencies: up to date"
fi

log "building aadap (editable, build/dev)"
"$VENV_PY" -m pip install -q --no-build-isolation --no-deps -e . \
  -Cbuild-dir=build/dev \
  -Ccmake.define.AADAP_BUILD_TESTS=ON \
  -Ccmake.define.AADAP_WARNINGS_AS_ERRORS=ON
log "ready: $("$VENV_PY" -c 'import aadap; print("aadap", aadap.__version__)')"
