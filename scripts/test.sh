#!/usr/bin/env bash
# README command 2: install the test dependencies into ./.venv and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check src tests bench examples
.venv/bin/ruff format --check src tests bench examples
.venv/bin/mypy src tests
exec .venv/bin/python -m pytest "$@"
