#!/usr/bin/env bash
# `npm start`: the demo end to end on a local cloud. Installs dependencies when missing, then runs
# `cj demo --own-cloud`, which synthesizes the stack when sources changed, starts a local cloud
# inside its own process (moto_server, function host, HTTP API), submits the 40 demo essays, shows
# progress, prints the ranking with its agreement to the known order, and stops the local cloud on
# every exit path (success, failure, Ctrl-C). Extra arguments go to `cj demo`.
set -euo pipefail

cd "$(dirname "$0")/.."

if [ ! -d node_modules ]; then
  echo "installing dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund
fi

exec node cli/cj.mjs demo --own-cloud "$@"
