#!/usr/bin/env bash
# The browser the page tests drive (the report and the dashboard, through playwright-core): Debian's
# `chromium` package. Installs it with apt-get when it is missing (quietly, once; a no-op after);
# CJ_CHROMIUM names another binary instead. Run by .ci/run and `npm test` before the tests.
set -euo pipefail

chromium="${CJ_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi
if [ -n "${CJ_CHROMIUM:-}" ]; then
  echo "CJ_CHROMIUM=$chromium is not an executable" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no chromium at $chromium and no apt-get: install Chromium and set CJ_CHROMIUM" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "no chromium at $chromium: run \`apt-get install -y chromium\` as root" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi
echo "installing chromium (apt-get) for the browser tests..." >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq chromium >/dev/null
