#!/usr/bin/env bash
# The main job: set everything up, then run it (at this stage: `aadap doctor`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/aadap doctor "$@"
