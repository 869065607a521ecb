#!/usr/bin/env bash
# Builds the web UI (web/, Preact + Vite) into OUT_DIR/web, where every agent serves it from
# (src/web/web-ui.ts looks two levels above its compiled file). Default OUT_DIR: dist.
# Run by `npm ci` (prepare), before `npm test` (pretest) and by `npm run build:web`.
set -euo pipefail
cd "$(dirname "$0")/.."
out_root="${1:-dist}"
out="$(realpath -m "$out_root")/web"
echo "== web UI (tsc --noEmit, vite build) -> $out"
npx tsc -p web/tsconfig.json
npx vite build --config web/vite.config.ts --outDir "$out" --emptyOutDir --logLevel warn
