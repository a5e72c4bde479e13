#!/usr/bin/env bash
# Installs failover-agi as a hardened systemd service from a checkout: run as root from the repository.
#   sudo systemd/install.sh            # build, install to /opt/failover-agi, enable and start
#   sudo systemd/install.sh --no-start # install only
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=/opt/failover-agi
start=yes
[ "${1:-}" = "--no-start" ] && start=no

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v node >/dev/null || { echo "node (>= 20) is required" >&2; exit 1; }

echo "building"
npm ci --no-audit --no-fund
npm run build
npm prune --omit=dev --no-audit --no-fund

echo "user and directories"
getent group failover-agi >/dev/null || groupadd --system failover-agi
id failover-agi >/dev/null 2>&1 || useradd --system --gid failover-agi --home-dir /var/lib/failover-agi --shell /usr/sbin/nologin failover-agi
install -d -m 0755 "$PREFIX"
install -d -m 0750 -o root -g failover-agi /etc/failover-agi
install -d -m 0750 -o failover-agi -g failover-agi /var/lib/failover-agi /var/lib/failover-agi/spool

echo "files"
rm -rf "$PREFIX/dist" "$PREFIX/node_modules"
cp -r dist node_modules package.json README.md sql dialplan "$PREFIX/"
[ -f /etc/failover-agi/config.json ] || install -m 0640 -o root -g failover-agi systemd/config.example.json /etc/failover-agi/config.json
[ -f /etc/default/failover-agi ] || install -m 0640 -o root -g failover-agi systemd/failover-agi.default /etc/default/failover-agi
install -m 0644 systemd/failover-agi.service /etc/systemd/system/failover-agi.service
ln -sf "$PREFIX/dist/src/cli.js" /usr/local/bin/failover-agi
chmod 0755 "$PREFIX/dist/src/cli.js"

echo "checking"
node "$PREFIX/dist/src/cli.js" check-config /etc/failover-agi/config.json
if command -v systemd-analyze >/dev/null; then systemd-analyze verify /etc/systemd/system/failover-agi.service; fi

systemctl daemon-reload
if [ "$start" = yes ]; then
  systemctl enable --now failover-agi
  systemctl --no-pager status failover-agi || true
fi
cat <<MSG
Installed. Next:
  - edit /etc/failover-agi/config.json (carriers, routes), then: systemctl reload failover-agi
  - AMI and database secrets: /etc/default/failover-agi
  - dialplan examples: $PREFIX/dialplan/
  - schema: failover-agi migrate   (when db.host is set)
  - ops in group failover-agi can run: failover-agi status
MSG
