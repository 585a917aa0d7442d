#!/usr/bin/env bash
# Install vidtask into ./.venv. Usage: scripts/setup.sh [EXTRAS], e.g. scripts/setup.sh test
# Also installs, with apt-get when missing, Debian's CJK font (fonts-noto-cjk), so Chinese,
# Japanese and Korean text renders instead of being refused, and espeak-ng, which narrates
# slides videos (without it they are silent). With the test extra it also installs Debian's
# chromium, which the dashboard's Playwright tests drive (Playwright's own browsers are never
# downloaded).
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

missing=()
have_cjk_font || missing+=(fonts-noto-cjk)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
wants_test=0
[[ ",${1:-}," == *,test,* ]] && wants_test=1
have_chromium() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; }
[ "$wants_test" = 1 ] && ! have_chromium && missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo="sudo"
        echo "installing Debian's ${missing[*]} ..." >&2
        $sudo apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        have_cjk_font || echo "warning: no CJK font found; CJK text will be refused until you" \
            "install fonts-noto-cjk or set VIDTASK_FONT_PATH" >&2
        command -v espeak-ng >/dev/null 2>&1 || echo "warning: espeak-ng not found; slides" \
            "videos will be silent until you install it" >&2
        [ "$wants_test" = 1 ] && ! have_chromium && echo "warning: chromium not found; the" \
            "dashboard's browser tests need it" >&2
    fi
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
spec="."
[ -n "${1:-}" ] && spec=".[${1}]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
