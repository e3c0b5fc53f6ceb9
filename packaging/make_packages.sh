#!/usr/bin/env bash
# The installers from the one-folder build dist/AffectTrace (run by build.sh):
#   dist/affecttrace_VERSION_amd64.deb            dpkg -i / apt install: /opt/affecttrace, affecttrace and
#                                                 affecttrace-gui in /usr/bin, desktop entry and icon
#   dist/affecttrace-VERSION-linux-x86_64.tar.gz  for machines without dpkg: unpack, then sh install.sh
# Package dependencies are the host libraries the build links (build/size-report.json), each mapped
# to the Debian package that provides it on the build machine; those only Qt's Wayland plugin links
# are Recommends (plain dpkg installs it without them; X11 does without them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
app=dist/AffectTrace
[ -x "$app/affecttrace" ] || { echo "make_packages: build $app first (bash packaging/build.sh)" >&2; exit 1; }
version="$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)"
report=build/size-report.json
dlib_model=shape_predictor_68_face_landmarks.dat
glibc="$(python3 -c "import json; print(json.load(open('$report'))['glibc'])")"

host_libraries() {  # host_libraries required|optional: sonames from the size report
  # optional: linked only by Qt's Wayland platform plugin and its Wayland client libraries, so the
  # package installs with plain dpkg and runs on X11 without them (Recommends, not Depends)
  python3 - "$report" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def wayland_only(users): return bool(users) and all("wayland" in u.lower() or "/libqt6wl" in u.lower() for u in users)
optional = {lib for lib, users in r["host_library_users"].items() if wayland_only(users)}
print(" ".join(sorted(optional if sys.argv[2] == "optional" else set(r["host_libraries"]) - optional)))
PY
}

packages_of() {  # "libgl1, libx11-6, ..." of the host libraries named: the Debian package of each
  local pkgs=() lib path pkg
  for lib in "$@"; do
    path="$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')"
    pkg=""
    if [ -n "$path" ]; then
      pkg="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)" || true
      [ -n "$pkg" ] || pkg="$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)" || true
    fi
    if [ -z "$pkg" ]; then  # not on this machine: Debian's library package naming (libfoo.so.N -> libfooN)
      pkg="$(echo "$lib" | tr 'A-Z' 'a-z' | sed -E 's/\.so\.([0-9]+).*$/ \1/; s/([0-9]) ([0-9]+)$/\1-\2/; s/ //')"
    fi
    [ "$pkg" != libc6 ] && pkgs+=("$pkg")
  done
  [ ${#pkgs[@]} -eq 0 ] || printf '%s\n' "${pkgs[@]}" | sort -u | sed 's/$/,/' | tr '\n' ' ' | sed 's/, $//'
}

depends() {  # "libc6 (>= 2.35), libgl1, ..."
  local rest
  # shellcheck disable=SC2046
  rest="$(packages_of $(host_libraries required))"
  echo "libc6 (>= $glibc)${rest:+, $rest}"
}

desktop_entry() {  # $1: the folder holding affecttrace-gui
  sed "s|@BIN@|$1|" packaging/linux/affecttrace.desktop
}

maintainer_scripts() {  # $1: DEBIAN/. The build carries dlib's model compressed: unpacked once here
  # into the system-wide weights folder (every user's), removed with the package (an upgrade keeps it)
  cat > "$1/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  /opt/affecttrace/affecttrace weights unpack >/dev/null ||
    echo "affecttrace: dlib's 68-point model was not unpacked; the dlib backend unpacks it on first use" >&2
fi
POSTINST
  cat > "$1/prerm" <<PRERM
#!/bin/sh
set -e
if [ "\$1" = remove ]; then
  rm -f /opt/affecttrace/weights/$dlib_model
  rmdir /opt/affecttrace/weights 2>/dev/null || true
fi
PRERM
  chmod 755 "$1/postinst" "$1/prerm"
}

build_deb() {
  local stage=build/deb/affecttrace deb="dist/affecttrace_${version}_amd64.deb" deps recommends
  deps="$(depends)"
  # shellcheck disable=SC2046
  recommends="$(packages_of $(host_libraries optional))"
  rm -rf "$stage"
  mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
    "$stage/usr/share/icons/hicolor/scalable/apps" "$stage/usr/share/doc/affecttrace"
  cp -a "$app" "$stage/opt/affecttrace"
  ln -s /opt/affecttrace/affecttrace "$stage/usr/bin/affecttrace"
  ln -s /opt/affecttrace/affecttrace-gui "$stage/usr/bin/affecttrace-gui"
  desktop_entry /opt/affecttrace > "$stage/usr/share/applications/affecttrace.desktop"
  cp resources/icons/affecttrace.svg "$stage/usr/share/icons/hicolor/scalable/apps/affecttrace.svg"
  printf 'AffectTrace, MIT licence. Third-party notices: /opt/affecttrace/licenses/THIRD-PARTY-NOTICES.txt\n' \
    > "$stage/usr/share/doc/affecttrace/copyright"
  cat > "$stage/DEBIAN/control" <<CONTROL
Package: affecttrace
Version: $version
Architecture: amd64
Maintainer: AffectTrace developers <affecttrace@localhost>
Installed-Size: $(du -sk "$stage" | cut -f1)
Depends: $deps
${recommends:+Recommends: $recommends
}Section: science
Priority: optional
Description: facial-affect annotation and multi-task model training
 Annotators trace valence and arousal with a joystick while video plays and label expressions and
 facial action units frame by frame; the engine detects faces, trains the Aff-Wild2 multi-task
 networks on the CPU, pre-annotates videos and compares models with humans. Model weights shared
 by every user of the machine go in /opt/affecttrace/weights (affecttrace weights install FILE).
CONTROL
  maintainer_scripts "$stage/DEBIAN"
  dpkg-deb --root-owner-group -Zgzip -z6 --build "$stage" "$deb" >/dev/null
  rm -rf "$stage"
  echo "make_packages: $deb ($(du -m "$deb" | cut -f1) MB; depends: $deps; recommends: ${recommends:-nothing})"
}

build_tar() {
  local name="affecttrace-${version}-linux-x86_64" stage=build/tar tarball
  tarball="dist/$name.tar.gz"
  rm -rf "$stage"
  mkdir -p "$stage/$name"
  cp -a "$app" "$stage/$name/AffectTrace"
  cp packaging/linux/install.sh packaging/linux/affecttrace.desktop resources/icons/affecttrace.svg "$stage/$name/"
  tar -C "$stage" -czf "$tarball" "$name"
  rm -rf "$stage"
  echo "make_packages: $tarball ($(du -m "$tarball" | cut -f1) MB)"
}

build_deb
build_tar
