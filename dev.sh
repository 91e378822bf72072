#!/usr/bin/env bash
# One-step set-up for a fresh Debian machine with Python 3.11, then run the player or the tests.
#   bash dev.sh run [ARGS…]   set up (system packages, .venv) and open the player
#   bash dev.sh test [ARGS…]  set up and run the whole test suite (headless)
#   bash dev.sh setup         set up only
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

# PortAudio for sounddevice; the libraries Qt's xcb/offscreen platforms and OpenCV load; fonts.
APT_PACKAGES="libportaudio2 libsndfile1 libegl1 libgl1 libopengl0 libglib2.0-0 libfontconfig1 libfreetype6
 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libx11-xcb1 libxrender1
 libxi6 libsm6 libice6 fonts-dejavu-core"
# Only for the tests: Debian's opencv-doc ships real face photographs for the camera tests; a private D-Bus
# session bus and gdbus for the MPRIS tests; the validators for the desktop entry and AppStream file.
APT_TEST_PACKAGES="opencv-doc dbus-daemon libglib2.0-bin desktop-file-utils appstream"

setup_system() {
  local missing=""
  for p in $APT_PACKAGES $*; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing system packages:$missing" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

setup_python() {
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  local stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    rm -f .venv/.installed-*; touch "$stamp"
  fi
}

cmd=${1:-run}; shift || true
# Debian's own python3.11 needs python3-venv for `-m venv`.
"$PY" -c "import ensurepip, venv" 2>/dev/null || APT_PACKAGES="$APT_PACKAGES python3-venv"
if [ "$cmd" = test ]; then setup_system $APT_TEST_PACKAGES; else setup_system; fi
setup_python
case "$cmd" in
  setup) echo "ready: .venv/bin/python -m player" ;;
  run) exec .venv/bin/python -m player "$@" ;;
  test) QT_QPA_PLATFORM=offscreen exec .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: bash dev.sh run|test|setup" >&2; exit 2 ;;
esac
