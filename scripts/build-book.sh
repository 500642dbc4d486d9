#!/usr/bin/env bash
# Build the book into _build/html. Usage: scripts/build-book.sh [full|quick] [jupyter-book build options]
# (profile default: $NNBOOK_PROFILE or full; e.g. `--path-output DIR` builds into DIR/_build, as the tests do)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
NNBOOK_PROFILE="${NNBOOK_PROFILE:-full}"
case "${1:-}" in full | quick) NNBOOK_PROFILE="$1" && shift ;; esac
export NNBOOK_PROFILE
# -W: a warning fails the build; -n: broken references warn; --keep-going: report every warning first.
jupyter-book build . -W -n --keep-going "$@"
