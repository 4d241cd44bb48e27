#!/usr/bin/env bash
# The benchmark, in one command: bench/run.sh [--services N] [--duration S] [--rate R] [--skip-http] ...
# Needs PostgreSQL and Redis on 127.0.0.1 (BENCH_DATABASE_URL, BENCH_REDIS_URL; defaults: database
# helpline_bench, Redis db 7); installs wrk (Debian's package) and matplotlib when missing.
# Not a test: it asserts nothing about time. Results: bench/results/latest.json and latest.png.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
python -c "import matplotlib" 2>/dev/null || python -m pip install --quiet -e ".[test,bench]"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
exec python -m bench "$@"
