#!/usr/bin/env bash
# Same as `make test`: set up .venv and run the default test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
make test
