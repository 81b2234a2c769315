#!/usr/bin/env bash
# Resolves requirements.txt (the direct dependencies) into requirements.lock: every
# package of the environment pinned, with the sha256 of each file, for CPython 3.11 on
# any platform. `make` installs from the lock, and each run manifest records the lock's
# sha256 (fraud/version.py:lock_digest), so `fraudctl verify` can tell when a re-run's
# libraries differ from the run's.
#
#   scripts/lock.sh [CONSTRAINTS]
#
# CONSTRAINTS: Airflow's constraints file for the pinned version and Python 3.11
# (https://raw.githubusercontent.com/apache/airflow/constraints-3.3.2/constraints-3.11.txt,
# a path or that URL); where given, every package it names resolves to its version there.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/bin/uv
[ -x "$uv" ] || uv=uv
args=(pip compile requirements.txt --universal --python-version 3.11 --generate-hashes
      --no-header --quiet --output-file requirements.lock)
if [ $# -gt 0 ]; then
  constraints=$1
  if [[ $constraints == http* ]]; then
    constraints=$(mktemp)
    trap 'rm -f "$constraints"' EXIT
    curl -fsSL "$1" -o "$constraints"
  fi
  args+=(--constraint "$constraints")
fi
"$uv" "${args[@]}"
echo "requirements.lock: $(grep -c '^[A-Za-z0-9]' requirements.lock) packages, sha256 $(sha256sum requirements.lock | cut -c1-16)…"
