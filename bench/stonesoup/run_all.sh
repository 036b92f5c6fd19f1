#!/usr/bin/env bash
# Every comparison run reported in BENCHMARKS.md ("Air picture"), in order. Takes about an hour and a half on
# 2 cores, almost all of it in Stone Soup. Needs bench/.venv (pip install -r requirements.txt) and
# the release binary (cargo build --release -p entente).
set -euo pipefail
cd "$(dirname "$0")"
PY=../.venv/bin/python
$PY compare.py accuracy --kind tutorial10 --runs 100 --c 10
$PY compare.py speed --targets 10 --scans 600
$PY compare.py speed --targets 100 --scans 100
$PY compare.py speed --targets 1000 --scans 10
$PY compare.py accuracy --kind scaled --targets 10 --runs 4 --scans 600 --c 10
$PY compare.py accuracy --kind three-nation --runs 3 --c 10
$PY compare.py accuracy --kind scaled --targets 100 --runs 2 --scans 200 --c 10
$PY compare.py accuracy --kind scaled --targets 1000 --runs 1 --scans 10 --c 10
