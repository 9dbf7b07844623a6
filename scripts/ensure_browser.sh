#!/usr/bin/env bash
# Debian's chromium and the Indic fonts for the browser tests, and espeak-ng for the IVR's
# recorded prompts in Odia and Assamese (Playwright's own browser
# download is not reachable). Installs them when missing; needs root or sudo.
set -eu
if [ -x /usr/bin/chromium ] && dpkg -s fonts-indic >/dev/null 2>&1 && command -v espeak-ng >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "Browser tests need: apt-get install -y chromium fonts-indic (as root)" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-indic fonts-noto-color-emoji espeak-ng >/dev/null
