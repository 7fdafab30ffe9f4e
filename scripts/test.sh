#!/usr/bin/env bash
# The whole test suite: set everything up, start a throwaway PostgreSQL, run every check.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m aadap.testing.postgres -- bash scripts/check.sh
