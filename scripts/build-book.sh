#!/usr/bin/env bash
# Build the book into _build/html. Usage: scripts/build-book.sh [full|quick]   (default: $NNBOOK_PROFILE or full)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
export NNBOOK_PROFILE="${1:-${NNBOOK_PROFILE:-full}}"
# -W: a warning fails the build; -n: broken references warn; --keep-going: report every warning first.
jupyter-book build . -W -n --keep-going
