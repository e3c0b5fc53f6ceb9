#!/usr/bin/env bash
# One entry point for set-up on a fresh machine:
#   bash packaging/dev.sh app [ARGS...]   install what is missing, then start AffectTrace
#   bash packaging/dev.sh test [PYTEST ARGS...]   install what is missing, then run the tests; under CI
#                                         (or with AFFECTTRACE_PACKAGE=1) then build, install and
#                                         smoke-test the package (packaging/build.sh --smoke)
#   bash packaging/dev.sh install         install only
# Installs Debian packages (when run as root with apt), a virtual environment in .venv with the
# locked dependencies (requirements/dev.lock: the CPU build of torch 2.13.0, the test extras) and the
# project.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${AFFECTTRACE_VENV:-$root/.venv}"
py="${PYTHON:-python3}"

debian_packages=(libportaudio2 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0
  libpulse0 libegl1 libgl1 libdbus-1-3 libfontconfig1 libglib2.0-0 xvfb
  openbox xdotool x11-utils  # the real-window tests (tests/realwindow): a window manager, X input, xprop/xwininfo
  bindfs)  # the team stress test's FUSE mounts (tests/test_team_stress.py; it pulls fuse): links where FUSE cannot mount

install_debian() {
  command -v dpkg-query >/dev/null || return 0
  local missing=()
  for p in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}"
    echo "Install them with: sudo apt-get install -y ${missing[*]}"
    return 0
  fi
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python() {
  # Every distribution at the version and file hashes of requirements/dev.lock (bash packaging/lock.sh
  # refreshes it), the CPU torch among them (a bare "torch" would pull a multi-GB CUDA build), then
  # the project itself, editable, without dependencies.
  local stamp="$venv/.affecttrace-installed" want lock=requirements/dev.lock
  want="$(cat pyproject.toml "$lock" | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  if "$venv/bin/python" -c "import sys, torch; sys.exit(torch.version.cuda is None)" 2>/dev/null; then
    lock="$(mktemp)"  # a CUDA torch installed by hand (GPU workstation) stays: the rest of the lock
    "$venv/bin/python" packaging/lock_without.py requirements/dev.lock torch > "$lock"
    echo "dev.sh: keeping the CUDA torch of $venv"
  fi
  "$venv/bin/python" -m pip install -q --require-hashes -r "$lock"
  "$venv/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
  if ! "$venv/bin/python" -m pip check >/dev/null; then
    "$venv/bin/python" -m pip check >&2
    echo "dev.sh: pyproject.toml asks for what requirements/dev.lock lacks: run bash packaging/lock.sh" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
}

install_null_audio() {
  # No sound card on CI and servers: a null ALSA device lets audio code run (and be silent).
  if [ -n "${CI:-}" ] && [ ! -e "$HOME/.asoundrc" ]; then
    printf 'pcm.!default { type null }\nctl.!default { type hw card 0 }\n' > "$HOME/.asoundrc"
  fi
}

run_checks() {
  # The rules the architecture rests on, before the tests (configured in pyproject.toml): ruff (lint,
  # import order, a complexity budget) and import-linter's contracts (core/ never imports Qt or app/,
  # torch only in core/nn, core/data and the documented lazy places, app/ on core's public modules),
  # and mypy on core/ ([tool.mypy]: check_untyped_defs). A finding fails the run.
  echo "dev.sh: ruff check . && lint-imports && mypy"
  "$venv/bin/ruff" check --quiet . || return 1
  local out
  if ! out="$("$venv/bin/lint-imports" --no-logo 2>&1)"; then
    echo "$out"
    return 1
  fi
  "$venv/bin/mypy" || return 1
}

cmd="${1:-app}"; shift || true
install_debian
install_python
case "$cmd" in
  install) ;;
  app) exec "$venv/bin/python" main.py "$@" ;;
  test)
    install_null_audio
    export QT_QPA_PLATFORM=offscreen
    set +e
    run_checks
    rc=$?
    if [ $rc -eq 0 ]; then
      "$venv/bin/python" -m pytest "$@"
      rc=$?
      [ $rc -eq 5 ] && rc=0
    fi
    # Under CI (or AFFECTTRACE_PACKAGE=1) the packaged build is made from this checkout in its own lean
    # environment, installed and smoke-tested (packaging/build.sh --smoke), so a broken spec cannot land.
    if [ $rc -eq 0 ] && { [ -n "${CI:-}" ] || [ "${AFFECTTRACE_PACKAGE:-0}" = 1 ]; }; then
      if [ "$(id -u)" -eq 0 ]; then bash packaging/build.sh --smoke; else bash packaging/build.sh; fi
      rc=$?
    fi
    exit $rc ;;
  *) echo "usage: bash packaging/dev.sh [app|test|install] [ARGS...]" >&2; exit 2 ;;
esac
