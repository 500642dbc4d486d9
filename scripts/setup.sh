#!/usr/bin/env bash
# Set-up shared by scripts/build-book.sh and scripts/test.sh: a virtual environment in .venv with
# requirements.txt installed, MathJax and axe-core from npm, and the local dataset mirror when this machine has
# one. Source it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3.11}" -m venv .venv 2>/dev/null || python3 -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
# requirements.txt pins the CPU builds of PyTorch and TensorFlow. NNBOOK_ACCELERATOR=cuda (a GPU machine, e.g. the
# publishing workflow's GPU runners) installs the same versions' CUDA builds: PyPI's Linux torch wheel is
# the CUDA one, and `tensorflow[and-cuda]` brings TensorFlow's CUDA libraries.
requirements=requirements.txt
if [ "${NNBOOK_ACCELERATOR:-cpu}" = cuda ]; then
  requirements=.venv/requirements-cuda.txt
  sed -e 's/^tensorflow-cpu==/tensorflow[and-cuda]==/' requirements.txt >"$requirements"
  unset PIP_EXTRA_INDEX_URL  # the workflows point it at PyTorch's CPU wheels
elif [ "${NNBOOK_ACCELERATOR:-cpu}" != cpu ]; then
  echo "NNBOOK_ACCELERATOR: expected cpu or cuda, got '${NNBOOK_ACCELERATOR}'" >&2
  return 2 2>/dev/null || exit 2
fi
# pip takes about 25 s even when everything is installed: skip it while the requirements and the package's
# pyproject.toml are those of the last install (a stamp in .venv; delete .venv to start afresh).
installed="$(cat "$requirements" code/pyproject.toml | sha256sum)"
if [ "$(cat .venv/.installed 2>/dev/null)" != "$installed" ]; then
  pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$installed" >.venv/.installed
fi
if ! command -v dot >/dev/null; then  # model diagrams need Debian's graphviz
  echo "Installing Debian's graphviz for the model diagrams" >&2
  ${SUDO:-$([ "$(id -u)" = 0 ] || echo sudo)} apt-get install -y -q graphviz >/dev/null
fi
# The site serves MathJax itself instead of loading it from a CDN, and the browser tests check pages with
# axe-core: both from npm, into node_modules here (git-ignored), where the book's extension finds MathJax.
# MathJax 3: the major version Sphinx 7.4 configures. Skipped while these versions are the ones installed.
node_packages="mathjax@3.2.2 axe-core@4.14.1"
if [ "$(cat node_modules/.nnbook-installed 2>/dev/null)" != "$node_packages" ]; then
  if ! command -v npm >/dev/null; then
    echo "setup.sh: npm not found; it installs $node_packages (MathJax for the site, axe-core for the" \
      "tests). Install Node.js's npm (Debian/Ubuntu: apt-get install npm) and run this again." >&2
    return 2 2>/dev/null || exit 2
  fi
  read -ra specs <<<"$node_packages"
  npm install --prefix "$PWD" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "${specs[@]}"
  echo "$node_packages" >node_modules/.nnbook-installed
fi
# Machines without internet keep dataset copies in a shared folder beside the checkout (see its README.md);
# nnbook searches it before downloading.
if [ -z "${NNBOOK_DATA_MIRROR:-}" ]; then
  for mirror in ../shared/data /work/shared/data; do
    if [ -d "$mirror" ]; then
      NNBOOK_DATA_MIRROR="$(cd "$mirror" && pwd)"
      export NNBOOK_DATA_MIRROR
      break
    fi
  done
fi
