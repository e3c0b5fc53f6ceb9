#!/bin/sh
# Install AffectTrace from this unpacked folder on a Linux machine without dpkg.
#   sh install.sh                     as root: /opt/affecttrace, links in /usr/local/bin, desktop entry
#                                     and icon under /usr/local/share
#   sh install.sh --prefix DIR        anywhere (no root needed for a folder of yours: links then go in
#                                     ~/.local/bin and the entry in ~/.local/share/applications)
#   sh install.sh --uninstall [--prefix DIR]   remove what an earlier run installed (weights stay)
# Needs glibc 2.35 or newer and the host libraries named in the README ("Minimum OS").
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
prefix=/opt/affecttrace
action=install
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --uninstall) action=uninstall; shift ;;
    *) echo "usage: sh install.sh [--prefix DIR] [--uninstall]" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -eq 0 ]; then
  bindir=/usr/local/bin; share=/usr/local/share
else
  bindir="$HOME/.local/bin"; share="$HOME/.local/share"
fi
manifest="$prefix/.installed-files"
dlib_model=shape_predictor_68_face_landmarks.dat  # unpacked into $prefix/weights (root, default prefix)

uninstall() {
  [ -f "$manifest" ] || { echo "install.sh: nothing installed in $prefix (no $manifest)" >&2; exit 1; }
  while IFS= read -r f; do rm -f "$f"; done < "$manifest"
  rm -rf "$prefix/_internal" "$prefix/licenses" "$prefix/affecttrace" "$prefix/affecttrace-gui"  # ours only
  rm -f "$manifest"
  if [ "$prefix" = /opt/affecttrace ]; then rm -f "$prefix/weights/$dlib_model"; rmdir "$prefix/weights" 2>/dev/null || true; fi
  rmdir "$prefix" 2>/dev/null || echo "install.sh: kept $prefix/weights (shared model weights)"
  echo "install.sh: removed AffectTrace from $prefix"
}

install() {
  [ -x "$here/AffectTrace/affecttrace" ] || { echo "install.sh: run it from the unpacked folder" >&2; exit 1; }
  [ -f "$manifest" ] && uninstall >/dev/null
  mkdir -p "$prefix" "$bindir" "$share/applications" "$share/icons/hicolor/scalable/apps"
  cp -a "$here/AffectTrace/." "$prefix/"
  ln -sf "$prefix/affecttrace" "$bindir/affecttrace"
  ln -sf "$prefix/affecttrace-gui" "$bindir/affecttrace-gui"
  sed "s|@BIN@|$prefix|" "$here/affecttrace.desktop" > "$share/applications/affecttrace.desktop"
  cp "$here/affecttrace.svg" "$share/icons/hicolor/scalable/apps/affecttrace.svg"
  printf '%s\n' "$bindir/affecttrace" "$bindir/affecttrace-gui" "$share/applications/affecttrace.desktop" \
    "$share/icons/hicolor/scalable/apps/affecttrace.svg" > "$manifest"
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$share/applications" || true
  if [ "$(id -u)" -eq 0 ] && [ "$prefix" = /opt/affecttrace ]; then  # dlib's model, carried compressed
    "$prefix/affecttrace" weights unpack >/dev/null || echo "install.sh: dlib's model will be unpacked on first use"
  fi
  echo "install.sh: installed in $prefix; commands in $bindir (affecttrace, affecttrace-gui)"
  case ":$PATH:" in *":$bindir:"*) ;; *) echo "install.sh: add $bindir to your PATH" ;; esac
}

$action
