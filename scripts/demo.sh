#!/usr/bin/env bash
# Same as `make demo`: set up .venv and run the default demo on CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
make demo
