#!/usr/bin/env bash
# Set up what the end-to-end suite (test/e2e/) needs: Debian's Chromium and ripgrep, and code-server 4.100.3
# (VS Code 1.100.3, the last release that runs on Node 20) from the npm registry. See docs/vscode-e2e.md.
#
# Idempotent: apt packages are installed only when missing, code-server only when its cache folder is not complete;
# a second run takes about a second. Needs no network but the Debian mirror (only for missing packages) and the npm
# registry (only on the first run): @vscode/ripgrep's postinstall, which would download ripgrep from GitHub, is fed
# Debian's /usr/bin/rg instead.
#
# The cache lives outside the repository: $DSOD_E2E_CACHE, by default $HOME/.cache/dsod-e2e. The harness
# (test/e2e/harness.ts) finds code-server there, or at $CODE_SERVER_BIN.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
APT_PACKAGES=(chromium ripgrep build-essential python3 libkrb5-dev)
CACHE="${DSOD_E2E_CACHE:-$HOME/.cache/dsod-e2e}"
PREFIX="$CACHE/code-server-$CODE_SERVER_VERSION"
BIN="$PREFIX/node_modules/.bin/code-server"
# What @vscode/ripgrep 1.15.x's postinstall looks for before it downloads (code-server 4.100.3 pins 1.15.11).
RG_CACHE_NAME="vscode-ripgrep-cache-1.15.11"
RG_ARCHIVE="ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"

log() { printf '[e2e-setup] %s\n' "$*" >&2; }
start=$(date +%s)
# code-server writes a config (with a password) into XDG_CONFIG_HOME on any run: keep that out of the home folder.
xdg="$(mktemp -d)"
trap 'rm -rf "$xdg"' EXIT
code_server() { XDG_CONFIG_HOME="$xdg/config" XDG_DATA_HOME="$xdg/data" XDG_CACHE_HOME="$xdg/cache" "$BIN" --config /dev/null "$@"; }

# 1. Debian packages, only the missing ones.
bash "$(dirname "$0")/apt-ensure.sh" e2e-setup "${APT_PACKAGES[@]}"
for exe in /usr/bin/chromium /usr/bin/rg; do [ -x "$exe" ] || { log "$exe not found after apt"; exit 1; }; done

# 2. code-server, into the cache folder. `.complete` marks a finished install; anything else is redone from scratch.
if [ -f "$PREFIX/.complete" ] && [ -x "$BIN" ]; then
  log "code-server $CODE_SERVER_VERSION present: $BIN"
else
  log "installing code-server $CODE_SERVER_VERSION into $PREFIX"
  # In place (native modules and scripts may remember their folder); `.complete` is written last.
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX"
  stage="$PREFIX"
  # ripgrep: an archive with Debian's rg where the postinstall looks first, so that it does not download.
  export TMPDIR="$stage/tmp"
  mkdir -p "$TMPDIR/$RG_CACHE_NAME"
  tar -czf "$TMPDIR/$RG_CACHE_NAME/$RG_ARCHIVE" -C /usr/bin rg
  (
    cd "$stage"
    echo '{"name":"dsod-e2e-code-server","private":true}' >package.json
    # nodedir: build the native modules (argon2, kerberos, node-pty, ...) against the local Node's headers, no
    # download; yes: a postinstall runs npx; unsafe_perm: run the install scripts as root.
    npm_config_nodedir=/usr npm_config_yes=true npm_config_unsafe_perm=true \
      npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
  )
  rg_bin="$stage/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"
  if [ ! -x "$rg_bin" ]; then
    # A ripgrep release other than the one above: put Debian's rg where VS Code looks for it (search, Quick Open).
    log "ripgrep not installed by its postinstall; copying /usr/bin/rg"
    mkdir -p "$(dirname "$rg_bin")"
    cp /usr/bin/rg "$rg_bin"
  fi
  code_server --version >/dev/null
  rm -rf "$TMPDIR"
  touch "$PREFIX/.complete"
fi

log "code-server: $(code_server --version | head -1)"
log "chromium: $(XDG_CONFIG_HOME="$xdg/config" HOME="$xdg" /usr/bin/chromium --version 2>/dev/null || echo "?")"
log "done in $(($(date +%s) - start)) s"
