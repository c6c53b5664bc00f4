#!/usr/bin/env bash
# The README's main job: installs what it needs (apt, npm), builds, and runs `xdp-decap demo` on its embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run build --silent
exec node_modules/.bin/node dist/src/cli.js demo "$@"
