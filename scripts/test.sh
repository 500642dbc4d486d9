#!/usr/bin/env bash
# Run the test suite (it builds the whole book in the quick profile). Extra arguments go to pytest; the
# whole tests folder runs unless one of them names a test file or folder (tests/...).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [ ! -x "${NNBOOK_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "Installing Debian's chromium for the browser tests" >&2
  ${SUDO:-$([ "$(id -u)" = 0 ] || echo sudo)} apt-get install -y -q chromium >/dev/null
fi
folder=(tests)
for argument in "$@"; do
  case "$argument" in tests | tests/*) folder=() ;; esac
done
python -m pytest "${folder[@]}" "$@"
