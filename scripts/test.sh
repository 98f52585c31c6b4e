#!/usr/bin/env bash
# `npm test`: every test layer, one after the other (the integration layer's global setup starts
# and stops the local cloud). Every layer runs even if an earlier one fails; the exit code is
# non-zero if any failed.
set -uo pipefail

cd "$(dirname "$0")/.."

failed=()
for layer in unit infra integration; do
  echo "=== ${layer} tests ===" >&2
  if ! npx vitest run --project "$layer"; then
    failed+=("$layer")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test layers failed: ${failed[*]}" >&2
  exit 1
fi
echo "all test layers passed: unit, infra, integration" >&2
