#!/usr/bin/env bash
# Build the book into _build/html.
# Usage: scripts/build-book.sh [full|quick] [CHAPTER.md ...] [jupyter-book build options]
# The profile defaults to $NNBOOK_PROFILE, else full. Chapters named after it are the only ones executed
# (into the shared execution cache); the other pages come from that cache, and the build lists those it
# left out. NNBOOK_EXECUTE=none executes nothing and fails on a chapter the cache lacks. Options go to
# `jupyter-book build`, e.g. `--path-output DIR` builds into DIR/_build, as the tests do.
set -euo pipefail
chapters=()
profile="${NNBOOK_PROFILE:-full}"
case "${1:-}" in full | quick) profile="$1" && shift ;; esac
while [ $# -gt 0 ] && [[ "$1" != -* ]]; do
  if [ ! -f "$1" ]; then
    echo "build-book.sh: chapter $1 not found; expected a page of the book such as book/resnets.md" >&2
    exit 2
  fi
  chapters+=("$(realpath "$1")") && shift
done
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
export NNBOOK_PROFILE="$profile"
if [ ${#chapters[@]} -gt 0 ]; then
  export NNBOOK_EXECUTE="${chapters[*]}"
fi
# -W: a warning fails the build; -n: broken references warn; --keep-going: report every warning first.
jupyter-book build . -W -n --keep-going "$@"
