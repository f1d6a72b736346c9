#!/usr/bin/env bash
# Installs the Tollgate broker as a systemd service on this host (run as root, from a checkout that
# `npm ci && npm run build` has built, e.g. /opt/tollgate):
#   - a system user `tollgate` (no login shell, home = its state directory);
#   - /etc/tollgate (root:tollgate, 0750) with policy.json (from --policy FILE, or kept if present) and
#     an admin token in /etc/tollgate/admin-token (tollgate, 0600; made once, never printed);
#   - deploy/tollgate.service as /etc/systemd/system/tollgate.service, enabled and started.
# Re-running upgrades the unit and keeps the policy, the token and the data.
#
#   sudo deploy/install.sh --policy /path/to/policy.json
#
# For tests and image builds: TOLLGATE_ROOT (install below this directory instead of /),
# TOLLGATE_SERVICE_USER (default tollgate), TOLLGATE_SYSTEMCTL (default systemctl; "true" skips it).
set -euo pipefail

ROOT="${TOLLGATE_ROOT:-}"
SERVICE_USER="${TOLLGATE_SERVICE_USER:-tollgate}"
SYSTEMCTL="${TOLLGATE_SYSTEMCTL:-systemctl}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POLICY=""

while (($#)); do
  case "$1" in
    --policy) POLICY="${2:?--policy needs a FILE}"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

[[ "$(id -u)" == 0 ]] || { echo "install.sh: run as root (it creates a user and a systemd unit)" >&2; exit 1; }
[[ -f "$HERE/../broker/dist/cli.js" ]] || { echo "install.sh: build first: npm ci && npm run build in $(cd "$HERE/.." && pwd)" >&2; exit 1; }

if ! getent passwd "$SERVICE_USER" >/dev/null; then
  useradd --system --home-dir /var/lib/tollgate --no-create-home --shell /usr/sbin/nologin --user-group "$SERVICE_USER"
  echo "created system user $SERVICE_USER"
fi
GROUP="$(id -gn "$SERVICE_USER")"

install -d -m 0750 -o root -g "$GROUP" "$ROOT/etc/tollgate"
if [[ -n "$POLICY" ]]; then
  node "$HERE/../broker/bin/tollgate.js" policy validate "$POLICY"
  install -m 0640 -o root -g "$GROUP" "$POLICY" "$ROOT/etc/tollgate/policy.json"
elif [[ ! -f "$ROOT/etc/tollgate/policy.json" ]]; then
  echo "install.sh: no policy yet: pass --policy FILE (start from shared/examples/policy.sample.json)" >&2
  exit 1
fi

TOKEN_FILE="$ROOT/etc/tollgate/admin-token"
if [[ ! -s "$TOKEN_FILE" ]]; then
  # 32 random bytes, URL-safe; written with umask 077 so it is never readable by others, even briefly.
  (umask 077 && node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url") + "\n")' >"$TOKEN_FILE")
  echo "made an admin token in $TOKEN_FILE (read it as root to use the admin commands)"
fi
chown "$SERVICE_USER:$GROUP" "$TOKEN_FILE"
chmod 0600 "$TOKEN_FILE"

install -d -m 0755 "$ROOT/etc/systemd/system"
# The unit names /opt/tollgate and /usr/bin/node: point it at this checkout and this host's node.
CHECKOUT="$(cd "$HERE/.." && pwd)"
NODE_BIN="$(command -v node)"
sed -e "s|/opt/tollgate|$CHECKOUT|g" -e "s|/usr/bin/node |$NODE_BIN |" "$HERE/tollgate.service" >"$ROOT/etc/systemd/system/tollgate.service"
chmod 0644 "$ROOT/etc/systemd/system/tollgate.service"
"$SYSTEMCTL" daemon-reload
"$SYSTEMCTL" enable --now tollgate.service
echo "tollgate.service installed; logs: journalctl -u tollgate -f"
