#!/usr/bin/env bash
# The README's test command (`npm test`): installs what the tests need, type-checks and builds,
# lints, then runs every test file. CI (.ci/run) runs exactly `npm ci && npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
echo "== build (tsc, strict)"
npx tsc -p tsconfig.json
echo "== build web UI (vite)"
bash scripts/build-web.sh
echo "== lint (biome)"
npx biome check .
echo "== tests"
# Only *.test.js files are tests (fixtures and helpers live beside them under dist/test).
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
# Unit tests use fake clocks and no real timing, so two run at once (both cores); the others
# start agents with real leases, and run one file at a time so a busy machine cannot make them
# miss a renewal. A hung test fails after 10 minutes instead of blocking the run.
# Files outside unit/ that start no agent, no lease and no deadline, and assert no duration
# (building and installing the Debian package, CLI checks, one resource or fence device or
# doctor run at a time) are not timing-sensitive either: they run in the first batch, beside
# the unit tests, which keeps the whole suite well inside CI's time limit. The Debian package
# test is the longest file of all, so it sorts first and starts at once.
untimed=" $(printf 'dist/test/%s.test.js ' \
  integration/debian-package integration/import-keepalived integration/bench-help \
  integration/filesystem-resource integration/doctor-netns integration/doctor-setpriv \
  integration/doctor-aws integration/stonith-command lab/ip-resource integration/cli-lazy-load \
  integration/cli-signals)"
unit=() rest=()
for f in "${files[@]}"; do
  if [[ $f == dist/test/unit/* || $untimed == *" $f "* ]]; then unit+=("$f"); else rest+=("$f"); fi
done
status=0
node --test --test-reporter=spec --test-timeout=600000 --test-concurrency=2 "${unit[@]}" || status=$?
node --test --test-reporter=spec --test-timeout=600000 --test-concurrency=1 "${rest[@]}" || status=$?
exit "$status"
