#!/usr/bin/env bash
# Install the pinned LiteLLM proxy into its own virtual environment in the user's cache directory.
#
# LiteLLM drags in ~120 packages (about 740 MB); keeping it out of the main .venv keeps pixelpact's own dependency set
# small and lets the two pin different versions of shared packages. It lives outside the work tree, like pip's own
# cache, so every clone on a machine (CI checks out a fresh one each run) shares one install. A stamp file records
# what was installed, so a second run returns at once; delete the folder to force a fresh install.
#
# Usage: tests/litellm/install.sh            (prints the venv's python on success)
# Env:   PIXELPACT_LITELLM_VENV  where to install (default: ${XDG_CACHE_HOME:-~/.cache}/pixelpact/litellm-venv)
#        PYTHON                  the interpreter to build the venv from (default: python3)
set -euo pipefail

# prisma: the proxy runs with a master key (1.106 refuses to start without one), and its auth error handler imports
# prisma; without it every rejected credential becomes a bare text/plain 500 instead of LiteLLM's real 401.
PIN="litellm[proxy]==1.106.2 prisma==0.15.0"
VENV="${PIXELPACT_LITELLM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/pixelpact/litellm-venv}"
STAMP="$VENV/.pixelpact-installed"

installed() { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PIN" ] && [ -x "$VENV/bin/litellm" ]; }

if installed; then
  echo "$VENV/bin/python"
  exit 0
fi

# Two test runs on one machine must not install into the same folder at once: the second waits, then finds it done.
mkdir -p "$(dirname "$VENV")"
if command -v flock >/dev/null; then
  exec 9>"$VENV.lock"
  flock 9
  if installed; then
    echo "$VENV/bin/python"
    exit 0
  fi
fi

# A half-finished earlier attempt (interrupted, registry down) leaves a venv without the stamp: start clean.
rm -rf "$VENV"
"${PYTHON:-python3}" -m venv "$VENV" >&2
# Quiet, no version check: the only network this needs is the package index itself.
# shellcheck disable=SC2086  # PIN is a list of requirement specifiers
# --no-compile: byte-compiling all ~120 packages dominates a cold install; Python compiles what it imports.
# Short network timeouts: without a reachable index the tier should be skipped in seconds, not after minutes of retries.
"$VENV/bin/pip" install -q --disable-pip-version-check --no-compile --retries 1 --timeout 20 $PIN >&2
printf '%s' "$PIN" > "$STAMP"
echo "$VENV/bin/python"
