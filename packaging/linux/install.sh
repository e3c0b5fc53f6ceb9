#!/bin/sh
# Install AffectTrace from this unpacked folder on a Linux machine without dpkg.
#   sh install.sh                     as root: /opt/affecttrace, links in /usr/local/bin, desktop entry
#                                     and icon under /usr/local/share
#   sh install.sh --prefix DIR        anywhere (no root needed for a folder of yours: links then go in
#                                     ~/.local/bin and the entry in ~/.local/share/applications)
#   sh install.sh --uninstall [--prefix DIR]   remove what an earlier run installed: files, links, the
#                                     desktop entry (and its MIME cache lines), icon folders left empty,
#                                     and this user's unpacked copy of dlib's model; weights an
#                                     administrator installed in /opt/affecttrace/weights stay
# Refuses a target that belongs to a Debian package (the .deb's /opt/affecttrace): apt manages that one.
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
packed_model="$prefix/_internal/face_recognition_models/models/$dlib_model.xz"
user_weights="${TORCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/torch}/hub/checkpoints"  # core/weights.py

refuse_dpkg_owned() {  # the .deb's files are dpkg's: never overwrite or delete them from here
  command -v dpkg-query >/dev/null || return 0
  owner="$(dpkg-query -S "$prefix" 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1)" || true
  [ -z "$owner" ] && return 0
  echo "install.sh: $prefix belongs to the Debian package $owner: use 'sudo apt remove $owner' to remove it," >&2
  echo "install.sh: or install this copy elsewhere with --prefix DIR" >&2
  exit 1
}

forget_desktop_entry() {  # the menu's MIME cache must not name the removed entry
  cache="$share/applications/mimeinfo.cache"
  if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$share/applications" || true; fi
  if [ -f "$cache" ] && grep -q 'affecttrace\.desktop' "$cache"; then
    sed -i -e 's/affecttrace\.desktop;//g' -e '/^[A-Za-z0-9.+_/-]*=$/d' "$cache"
  fi
  if [ -f "$cache" ] && ! grep -q '=' "$cache"; then rm -f "$cache"; fi
  for d in "$share/icons/hicolor/scalable/apps" "$share/icons/hicolor/scalable" "$share/icons/hicolor" \
           "$share/icons" "$share/applications"; do
    rmdir "$d" 2>/dev/null || true  # only when empty: other programs' icons and entries stay
  done
}

forget_user_model() {  # the copy of dlib's model unpacked for this user (non-root installs)
  copy="$user_weights/$dlib_model"
  [ -f "$copy" ] || return 0
  if [ -f "$packed_model" ] && command -v xz >/dev/null && xz -dc "$packed_model" | cmp -s - "$copy"; then
    rm -f "$copy"
    rmdir "$user_weights" 2>/dev/null || true
    echo "install.sh: removed $copy (dlib's model, unpacked on first use)"
  else
    echo "install.sh: kept $copy (not checked to be the copy this build unpacked)"
  fi
}

uninstall() {
  [ -f "$manifest" ] || { echo "install.sh: nothing installed in $prefix (no $manifest)" >&2; exit 1; }
  [ "${1:-}" = keep-model ] || forget_user_model
  while IFS= read -r f; do rm -f "$f"; done < "$manifest"
  rm -rf "$prefix/_internal" "$prefix/licenses" "$prefix/affecttrace" "$prefix/affecttrace-gui"  # ours only
  rm -f "$manifest"
  forget_desktop_entry
  if [ "$prefix" = /opt/affecttrace ]; then rm -f "$prefix/weights/$dlib_model"; rmdir "$prefix/weights" 2>/dev/null || true; fi
  rmdir "$prefix" 2>/dev/null || echo "install.sh: kept $prefix/weights (shared model weights)"
  echo "install.sh: removed AffectTrace from $prefix"
  echo "install.sh: other users' own copies of dlib's model (~/.cache/torch/hub/checkpoints/$dlib_model) stay;" \
    "each removes hers with: rm ~/.cache/torch/hub/checkpoints/$dlib_model"
}

install() {
  [ -x "$here/AffectTrace/affecttrace" ] || { echo "install.sh: run it from the unpacked folder" >&2; exit 1; }
  [ -f "$manifest" ] && uninstall keep-model >/dev/null
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

refuse_dpkg_owned
$action
