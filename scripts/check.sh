#!/usr/bin/env bash
# Every check, in order: lint, types, C++ tests (plain, AddressSanitizer + UBSan, and
# ThreadSanitizer on the concurrency tests), Python tests (pytest last, so its summary closes
# the output). Runs them all and fails if any failed. Expects scripts/setup.sh to have run and
# AADAP_TEST_POSTGRES_URL to name a running server (scripts/test.sh arranges both).
set -uo pipefail
cd "$(dirname "$0")/.."
# ccache hits across clones in different folders (CI clones afresh every run).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export PATH="$PWD/.venv/bin:$PATH"
export AADAP_REQUIRE_POSTGRES=1
JOBS=$(nproc)

failed=()
step() {
  local name=$1
  shift
  printf '\n\033[1m== %s ==\033[0m\n' "$name"
  "$@" || failed+=("$name")
}

step "ruff" ruff check python tests bench
step "mypy" mypy
step "c++ tests" bash -c "cmake --build build/dev -j $JOBS && ctest --test-dir build/dev -j $JOBS --output-on-failure"
step "c++ tests (asan+ubsan)" bash -c "
  cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAADAP_BUILD_TESTS=ON \
    -DAADAP_WARNINGS_AS_ERRORS=ON -DAADAP_SANITIZE=address,undefined >/dev/null &&
  cmake --build build/asan -j $JOBS &&
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build/asan -j $JOBS --output-on-failure"
# ThreadSanitizer only on the concurrency tests (GoogleTest names containing "Concurrent").
step "c++ concurrency tests (tsan)" bash -c "
  cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAADAP_BUILD_TESTS=ON \
    -DAADAP_WARNINGS_AS_ERRORS=ON -DAADAP_SANITIZE=thread >/dev/null &&
  cmake --build build/tsan -j $JOBS &&
  TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build/tsan -R Concurrent --output-on-failure"
step "pytest" python -m pytest

if ((${#failed[@]})); then
  printf '\nFAILED: %s\n' "${failed[*]}"
  exit 1
fi
