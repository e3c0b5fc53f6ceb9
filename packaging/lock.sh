#!/usr/bin/env bash
# Refresh the lock files after a change to pyproject.toml's dependencies or requirements/pins.in:
#   bash packaging/lock.sh              add what is new, keep every other pin (about 4 minutes)
#   bash packaging/lock.sh --upgrade    every distribution at its newest release within the ranges
# requirements/dev.lock (the project with [dev]: what dev.sh installs into .venv) and
# requirements/build.lock (the project with [packaging]: build.sh's lean build environment), each
# every distribution with its version and the SHA-256 of each of its files, resolved by pip-tools'
# pip-compile on Python 3.11 for Linux x86-64, with requirements/pins.in on top of pyproject's ranges
# (the CPU torch). dev.sh and build.sh install them with `pip install --require-hashes`, then the
# project itself with --no-deps, so two installs a week apart get the same files.
# Where the wheels come from is this machine's pip configuration (pip config list), never the lock:
# the CPU torch is found through find-links (/opt/wheels here; elsewhere point PIP_FIND_LINKS at a
# folder holding torch-2.13.0+cpu, or PIP_EXTRA_INDEX_URL at https://download.pytorch.org/whl/cpu).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="$root/build/venv-lock"
py="${PYTHON:-python3}"
pip_tools="pip-tools==7.5.3"
upgrade=()
[ "${1:-}" = "--upgrade" ] && upgrade=(--upgrade)

if ! "$tools/bin/pip-compile" --version 2>/dev/null | grep -q "${pip_tools#*==}"; then
  [ -x "$tools/bin/python" ] || "$py" -m venv "$tools"
  "$tools/bin/python" -m pip install -q "$pip_tools"
fi
compile() {  # compile EXTRA OUTPUT
  "$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
    --no-emit-find-links --no-emit-trusted-host "${upgrade[@]}" --extra "$1" -o "$2" pyproject.toml requirements/pins.in
  echo "lock: $2 ($(grep -c '^[a-z0-9]' "$2") distributions)"
}
compile dev requirements/dev.lock
compile packaging requirements/build.lock
