#!/usr/bin/env bash
# Packaged build for lab workstations: dist/AffectTrace/{AffectTrace,affecttrace}.
# Then checks the build really starts: the CLI answers and the GUI renders a screenshot offscreen.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash packaging/dev.sh install
.venv/bin/python -m pip install -q -e ".[packaging]"
.venv/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/affecttrace.spec
dist/AffectTrace/affecttrace --help >/dev/null
QT_QPA_PLATFORM=offscreen dist/AffectTrace/AffectTrace --screenshot build/packaged-screenshot.png
echo "built dist/AffectTrace; packaged screenshot: build/packaged-screenshot.png"
