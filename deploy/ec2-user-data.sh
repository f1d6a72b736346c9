#!/usr/bin/env bash
# EC2 user data for a developer host (Debian or Ubuntu AMI): code-server with the Tollgate extension,
# and a broker on the same host (embedded), or one that joins a fleet. Set the variables below (or
# bake them in with your launch template), then pass this file as the instance's user data.
# The instance role needs the IAM `tollgate iam-policy --policy …` prints; require IMDSv2.
set -euo pipefail

TOLLGATE_TARBALL_URL="${TOLLGATE_TARBALL_URL:?a tarball of a built Tollgate checkout (npm ci && npm run build && npm run package), e.g. from S3}"
POLICY_URL="${POLICY_URL:?the org policy (policy.json), e.g. from S3}"
DEVELOPER="${DEVELOPER:-dev}"                      # the Linux user who runs code-server
DEVELOPER_KEY_SSM="${DEVELOPER_KEY_SSM:-}"         # optional: SSM SecureString holding the developer's tg_ key
FLEET_ENV_SSM="${FLEET_ENV_SSM:-}"                 # optional: SSM SecureString with TOLLGATE_DATABASE_URL=… and TOLLGATE_REDIS_URL=…
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends nodejs npm curl ca-certificates awscli

# The broker, from the built tarball.
mkdir -p /opt/tollgate
fetch() { case "$1" in s3://*) aws s3 cp "$1" "$2" ;; *) curl -fsSL "$1" -o "$2" ;; esac; }
fetch "$TOLLGATE_TARBALL_URL" /tmp/tollgate.tgz
tar -xzf /tmp/tollgate.tgz -C /opt/tollgate --strip-components=1
fetch "$POLICY_URL" /tmp/policy.json
if [[ -n "$FLEET_ENV_SSM" ]]; then
  install -d -m 0750 /etc/tollgate
  (umask 077 && aws ssm get-parameter --with-decryption --name "$FLEET_ENV_SSM" --query Parameter.Value --output text >/etc/tollgate/tollgate.env)
fi
/opt/tollgate/deploy/install.sh --policy /tmp/policy.json

# code-server for the developer, with the extension; the extension talks to the broker on loopback.
id "$DEVELOPER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$DEVELOPER"
curl -fsSL https://code-server.dev/install.sh | sh -s -- --version "$CODE_SERVER_VERSION"
sudo -u "$DEVELOPER" code-server --install-extension /opt/tollgate/extension/tollgate-0.1.0.vsix
sudo -u "$DEVELOPER" code-server --install-extension saoudrizwan.claude-dev || echo "install Cline from the marketplace your code-server uses"
if [[ -n "$DEVELOPER_KEY_SSM" ]]; then
  home="$(getent passwd "$DEVELOPER" | cut -d: -f6)"
  sudo -u "$DEVELOPER" install -d -m 0700 "$home/.config/tollgate"
  (umask 077 && aws ssm get-parameter --with-decryption --name "$DEVELOPER_KEY_SSM" --query Parameter.Value --output text >"$home/.config/tollgate/credentials")
  chown "$DEVELOPER:" "$home/.config/tollgate/credentials"
fi
systemctl enable --now "code-server@$DEVELOPER"
