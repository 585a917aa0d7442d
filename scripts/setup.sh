#!/usr/bin/env bash
# Install vidtask into ./.venv. Usage: scripts/setup.sh [EXTRAS], e.g. scripts/setup.sh test
# Also installs Debian's CJK font (fonts-noto-cjk) when no CJK font is present, so Chinese,
# Japanese and Korean text renders instead of being refused.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "vidtask needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

have_cjk_font() {
    for f in /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
             /usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
             /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc; do
        [ -f "$f" ] && return 0
    done
    return 1
}

if ! have_cjk_font; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        echo "installing Debian's fonts-noto-cjk (CJK text) ..." >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq fonts-noto-cjk >/dev/null
    else
        echo "warning: no CJK font found; CJK text will be refused until you install" \
             "fonts-noto-cjk or set VIDTASK_FONT_PATH" >&2
    fi
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
spec="."
[ -n "${1:-}" ] && spec=".[${1}]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
