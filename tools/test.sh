#!/usr/bin/env bash
# Installs everything the tests need (Debian packages, a virtualenv with the test extras) and runs them.
# This is the README's test command; .ci/run calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: headless Chromium renders the HTML report in the browser test.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "note: chromium is not installed and cannot be installed here; the browser test will be skipped" >&2
  fi
fi

VENV="${INSOLE_TEST_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[test]'

"$VENV/bin/ruff" check .
# one test process per core (pytest-xdist; at most 4): the suite waits on subprocesses, ptys and sockets for much
# of its time, so on 2 cores it takes ~9 instead of ~15 minutes. ``bash tools/test.sh -n 0`` runs it in one process.
"$VENV/bin/python" -m pytest -n auto --maxprocesses 4 "$@"
