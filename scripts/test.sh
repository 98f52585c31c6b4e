#!/usr/bin/env bash
# `npm test`: every test layer, one after the other (the integration layer's global setup starts
# and stops the local cloud). Every layer runs even if an earlier one fails; the exit code is
# non-zero if any failed. Ends with one summary line over all layers: "tests: N passed, N failed".
set -uo pipefail

cd "$(dirname "$0")/.."

results_dir=".test-results"
rm -rf "$results_dir"
mkdir -p "$results_dir"

failed=()
for layer in unit infra integration; do
  echo "=== ${layer} tests ===" >&2
  if ! npx vitest run --project "$layer" --reporter=default --reporter=json \
    --outputFile.json="$results_dir/$layer.json"; then
    failed+=("$layer")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test layers failed: ${failed[*]}" >&2
else
  echo "all test layers passed: unit, infra, integration" >&2
fi
node -e '
  const { readFileSync, existsSync } = require("node:fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const layer of ["unit", "infra", "integration"]) {
    const file = `${process.argv[1]}/${layer}.json`;
    if (!existsSync(file)) { failed += 1; continue; } // a layer that crashed before reporting
    const report = JSON.parse(readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results_dir"
[ "${#failed[@]}" -eq 0 ]
