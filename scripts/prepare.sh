#!/usr/bin/env bash
# npm's `prepare` (runs on `npm ci`): build so `npx halo` works at once, and give the example
# key files the private mode git cannot store (Halo refuses world-readable keys).
set -euo pipefail
cd "$(dirname "$0")/.."
chmod 600 examples/*.key 2>/dev/null || true
npx tsc -p tsconfig.json
chmod +x dist/src/cli/main.js
