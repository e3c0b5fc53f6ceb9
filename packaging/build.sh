#!/usr/bin/env bash
# Packaged build for lab workstations, from this checkout, in a lean environment without the test
# extras (build/venv-build: requirements/build.lock with the CPU torch 2.13.0, then the project):
#   bash packaging/build.sh           dist/AffectTrace/ (affecttrace, affecttrace-gui -> affecttrace),
#                                     its start checks, build/size-report.json (fails over 850 MB),
#                                     the .deb and the .tar.gz
#   bash packaging/build.sh --smoke   then installs the .deb and runs packaging/smoke.sh (root only)
# AFFECTTRACE_BUILD_VENV=DIR uses another environment (a GPU build: put a CUDA torch in it first).
# The checks run with a throw-away HOME: the builder's own settings and caches are never touched.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${AFFECTTRACE_BUILD_VENV:-$root/build/venv-build}"
py="${PYTHON:-python3}"
smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1

need_tools() {
  local missing=()
  command -v readelf >/dev/null && command -v strip >/dev/null || missing+=(binutils)
  command -v dpkg-deb >/dev/null || missing+=(dpkg)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "build: missing tools, install them first: ${missing[*]}" >&2; exit 1
  fi
}

install_build_env() {  # requirements/build.lock (bash packaging/lock.sh), then the project without deps
  local stamp="$venv/.affecttrace-build" want lock=requirements/build.lock
  want="$(cat pyproject.toml "$lock" packaging/build.sh | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  if "$venv/bin/python" -c "import sys, torch; sys.exit(torch.version.cuda is None)" 2>/dev/null; then
    lock="$(mktemp)"  # the GPU variant: the CUDA torch put there first stays
    "$venv/bin/python" packaging/lock_without.py requirements/build.lock torch > "$lock"
  fi
  "$venv/bin/python" -m pip install -q --require-hashes -r "$lock"
  # not editable: the build reads its metadata
  "$venv/bin/python" -m pip install -q --no-deps --no-build-isolation --force-reinstall .
  if ! "$venv/bin/python" -m pip check >/dev/null; then
    "$venv/bin/python" -m pip check >&2
    echo "build: pyproject.toml asks for what requirements/build.lock lacks: run bash packaging/lock.sh" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
}

check_build() {  # the packaged CLI and GUI start, as a fresh user would see them
  local home; home="$(mktemp -d)"
  env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
    bash -c 'dist/AffectTrace/affecttrace --version && dist/AffectTrace/affecttrace-gui --screenshot "$HOME/shot.png"'
  cp "$home/shot.png" build/packaged-screenshot.png
  rm -rf "$home"
}

need_tools
install_build_env
start=$(date +%s)
export PYINSTALLER_CONFIG_DIR="$root/build/pyinstaller-cache"  # its cache stays out of HOME
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/affecttrace.spec
"$venv/bin/python" packaging/licenses.py dist/AffectTrace
check_build
# the size budget (AFFECTTRACE_MAX_MB=0: none, for the GPU variant): over it the build fails
"$venv/bin/python" packaging/size_report.py dist/AffectTrace --max-mb "${AFFECTTRACE_MAX_MB:-850}" > build/size-report.txt ||
  { tail -n 2 build/size-report.txt >&2; exit 1; }
head -n -1 build/size-report.txt > build/size-report.json
tail -n 1 build/size-report.txt
echo "build: $(( $(date +%s) - start )) s for PyInstaller, notices and checks; screenshot build/packaged-screenshot.png"
bash packaging/make_packages.sh
if [ $smoke -eq 1 ]; then
  bash packaging/smoke.sh dist/affecttrace_*_amd64.deb
fi
