#!/usr/bin/env bash
# `npm test`: every test layer, one after the other (the integration layer's global setup starts
# and stops the local cloud). Every layer runs even if an earlier one fails; the exit code is
# non-zero if any failed. The unit layer measures coverage and fails under the floors set in
# vitest.config.ts. Ends with one summary line over all layers, "tests: N passed, N failed", and
# one coverage line.
set -uo pipefail

cd "$(dirname "$0")/.."

results_dir=".test-results"
rm -rf "$results_dir" coverage
mkdir -p "$results_dir"

# The page tests (report, dashboard) need Chromium; a failed install shows in those tests.
bash scripts/ensure-chromium.sh || echo "warning: no Chromium: the browser tests will fail" >&2

failed=()
for layer in unit infra integration; do
  echo "=== ${layer} tests ===" >&2
  coverage=()
  if [ "$layer" = unit ]; then coverage=(--coverage); fi
  if ! npx vitest run --project "$layer" "${coverage[@]}" --reporter=default --reporter=json \
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
  const summary = "coverage/coverage-summary.json";
  if (existsSync(summary)) {
    const total = JSON.parse(readFileSync(summary, "utf8")).total;
    const kinds = ["statements", "branches", "functions", "lines"];
    console.log(`coverage (unit layer): ${kinds.map((k) => `${k} ${total[k].pct}%`).join(", ")}`);
  } else {
    console.log("coverage (unit layer): not measured (the unit layer did not finish)");
  }
' "$results_dir"
[ "${#failed[@]}" -eq 0 ]
