#!/usr/bin/env bash
# `npm start`: the demo end to end on the local cloud. Installs dependencies when missing, starts
# the local cloud (which synthesizes the stack when cdk.out is missing or stale), runs the demo
# set, prints the ranking, and stops the local cloud on every exit path (success, failure, Ctrl-C).
set -euo pipefail

cd "$(dirname "$0")/.."

if [ ! -d node_modules ]; then
  echo "installing dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund
fi

cj() { node cli/cj.mjs "$@"; }

stopped=0
stop_cloud() {
  if [ "$stopped" -eq 0 ]; then
    stopped=1
    cj local stop >&2 || echo "warning: could not stop the local cloud (run: node cli/cj.mjs local stop)" >&2
  fi
}
trap stop_cloud EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "starting the local cloud (synthesizes the stack on first run)..." >&2
cj local start >&2
cj demo "$@"
