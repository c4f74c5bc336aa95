#!/usr/bin/env bash
# Set up what the torch engine's tests (test/engine/torch-*.test.ts) and `npm run bench:train`'s PyTorch peer need:
# Debian's PyTorch for its own /usr/bin/python3 (python3-torch, CPU) and the threaded OpenBLAS it runs fastest with.
# The engine finds that Python even when another python3 comes first on PATH (engine/torch/python.ts).
#
# Idempotent: packages are installed only when missing; a second run takes well under a second. Needs no network
# but the Debian mirror, and that only for missing packages.
set -euo pipefail

APT_PACKAGES=(python3-torch libopenblas0-pthread)
log() { printf '[torch-setup] %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if ((${#missing[@]})); then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "missing packages (${missing[*]}) and not root: install them first"; exit 1; }
    SUDO=(sudo)
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present: ${APT_PACKAGES[*]}"
fi
log "torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') for /usr/bin/python3"
