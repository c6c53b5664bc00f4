#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds, and runs every test (root tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm test
