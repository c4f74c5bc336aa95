#!/usr/bin/env bash
# Install the Debian packages named as arguments that are not installed yet (as root, or through sudo); a no-op when all
# are. Shared by the setup scripts. A fresh machine has no package lists and an old one may have stale ones: update
# first. Usage: bash scripts/apt-ensure.sh TAG PACKAGE... (TAG prefixes the log lines).
set -euo pipefail
tag="$1"
shift
log() { printf '[%s] %s\n' "$tag" "$*" >&2; }

missing=()
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if ((${#missing[@]} == 0)); then
  log "Debian packages present: $*"
  exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { log "missing packages (${missing[*]}) and not root: install them first"; exit 1; }
  SUDO=(sudo)
fi
log "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
