#!/usr/bin/env bash
# README command 1: install into ./.venv, then start the server, render examples/demo.json
# with a progress bar and print where the video is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/vidtask demo "$@"
