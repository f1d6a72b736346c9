# Sourced by install-code-server.sh. `npm test` runs the installer under npm, which leaves its own
# Node and configuration in the environment (NODE, npm_node_execpath, npm_execpath, npm_config_*,
# node_modules/.bin on PATH). An npm install started from there runs code-server's install scripts
# with Node 20 and the outer project's settings, and code-server refuses Node 20. `clean_env DIR CMD…`
# runs CMD with DIR first on PATH and only the variables a standalone install needs.
clean_env() {
  local first="$1"
  shift
  local keep=(HOME="$HOME" PATH="$first:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" LANG="${LANG:-C.UTF-8}")
  local name
  # Network and TLS settings a machine may need to reach its registry.
  for name in TMPDIR http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS SSL_CERT_FILE; do
    if [[ -n "${!name:-}" ]]; then keep+=("$name=${!name}"); fi
  done
  env -i "${keep[@]}" "$@"
}
