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
# A hung test fails after 10 minutes instead of blocking the run (the slowest take ~2 minutes).
exec node --test --test-reporter=spec --test-timeout=600000 "${files[@]}"
