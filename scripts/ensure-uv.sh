#!/usr/bin/env bash
# Make `python3 -m uv` work on a fresh machine (uv is the only tool the Makefile needs first).
# Tries pip, then pip past a distribution's "externally managed" guard, then installs pip itself.
set -euo pipefail
UV_VERSION=0.13.9

python3 -m uv --version >/dev/null 2>&1 && exit 0
echo "installing uv ${UV_VERSION} (python3 -m pip install uv)" >&2
python3 -m pip install --quiet "uv==${UV_VERSION}" 2>/dev/null && exit 0
python3 -m pip install --quiet --user --break-system-packages "uv==${UV_VERSION}" 2>/dev/null && exit 0
if ! python3 -m pip --version >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
fi
python3 -m pip install --quiet --user --break-system-packages "uv==${UV_VERSION}"
python3 -m uv --version >/dev/null
