#!/usr/bin/env bash
# The main job: set everything up, then run the demo (six tasks through the governed
# lifecycle on an embedded store, offline). `aadap doctor` checks an installation.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/aadap demo "$@"
