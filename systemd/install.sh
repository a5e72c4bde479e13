#!/usr/bin/env bash
# Installs failover-agi as a hardened systemd service from a checkout: run as root from the repository.
#   sudo systemd/install.sh                 # build, install to /opt/failover-agi, enable and start
#   sudo systemd/install.sh --no-start      # install only
#   sudo systemd/install.sh --root DIR      # install into DIR (a scratch root: no systemctl; users are the host's)
#   sudo systemd/install.sh --no-build      # use the dist/ already built (DIST=dir to name another build dir)
# SERVICE_USER (failover-agi) runs the daemon and owns the secrets' group; OPS_GROUP (failover-agi-ops) is what
# operators join to use the CLI: it never reads a secret.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=/opt/failover-agi
SERVICE_USER=${SERVICE_USER:-failover-agi}
OPS_GROUP=${OPS_GROUP:-failover-agi-ops}
DIST=${DIST:-dist}
ROOT=${DESTDIR:-}
start=yes
build=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) start=no ;;
    --no-build) build=no ;;
    --root) ROOT=${2:?--root needs a directory}; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$ROOT" ] && start=no

[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v node >/dev/null || { echo "node (>= 20) is required" >&2; exit 1; }

if [ "$build" = yes ]; then
  echo "building"
  npm ci --no-audit --no-fund
  npm run build
  npm prune --omit=dev --no-audit --no-fund
fi

echo "users and groups"
getent group "$SERVICE_USER" >/dev/null || groupadd --system "$SERVICE_USER"
getent group "$OPS_GROUP" >/dev/null || groupadd --system "$OPS_GROUP"
id "$SERVICE_USER" >/dev/null 2>&1 || useradd --system --gid "$SERVICE_USER" --home-dir /var/lib/failover-agi --shell /usr/sbin/nologin "$SERVICE_USER"

echo "directories"
# secrets: root and the service user (group $SERVICE_USER has no human members); spool and journal: the service user only
install -d -m 0755 "$ROOT$PREFIX" "$ROOT/etc/default" "$ROOT/etc/systemd/system" "$ROOT/usr/local/bin"
install -d -m 0750 -o root -g "$SERVICE_USER" "$ROOT/etc/failover-agi"
install -d -m 0700 -o "$SERVICE_USER" -g "$OPS_GROUP" "$ROOT/var/lib/failover-agi"
install -d -m 0700 -o "$SERVICE_USER" -g "$OPS_GROUP" "$ROOT/var/lib/failover-agi/spool"
# an older install left these group-readable: tighten them
chmod 0700 "$ROOT/var/lib/failover-agi" "$ROOT/var/lib/failover-agi/spool"
find "$ROOT/var/lib/failover-agi" -type f -exec chmod 0600 {} +

echo "files"
rm -rf "$ROOT$PREFIX/dist" "$ROOT$PREFIX/node_modules" "$ROOT$PREFIX/docs"
cp -r "$DIST" "$ROOT$PREFIX/dist"
cp -r node_modules package.json README.md docs sql dialplan "$ROOT$PREFIX/"
key="$ROOT/etc/failover-agi/agi-key"
if [ ! -f "$key" ]; then
  # 32 characters of A-Z a-z 0-9 - _: what Asterisk sends as ?key= in the AGI URL
  (umask 077; head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' > "$key"; echo >> "$key")
fi
chown root:"$SERVICE_USER" "$key"
chmod 0640 "$key"
config="$ROOT/etc/failover-agi/config.json"
if [ ! -f "$config" ]; then
  install -m 0640 -o root -g "$SERVICE_USER" systemd/config.example.json "$config"
  # a fresh install asks Asterisk for the key; `failover-agi dialplan` prints it into the AGI URL
  node -e 'const f=process.argv[1];const fs=require("fs");const c=JSON.parse(fs.readFileSync(f,"utf8"));c.agi={...c.agi,sharedKeyFile:"/etc/failover-agi/agi-key"};fs.writeFileSync(f,JSON.stringify(c,null,2)+"\n")' "$config"
fi
chown root:"$SERVICE_USER" "$config"
chmod 0640 "$config"
[ -f "$ROOT/etc/default/failover-agi" ] || install -m 0640 -o root -g "$SERVICE_USER" systemd/failover-agi.default "$ROOT/etc/default/failover-agi"
chown root:"$SERVICE_USER" "$ROOT/etc/default/failover-agi"
chmod 0640 "$ROOT/etc/default/failover-agi"
sed -e "s/^User=failover-agi\$/User=$SERVICE_USER/" -e "s/^Group=failover-agi-ops\$/Group=$OPS_GROUP/" -e "s/^SupplementaryGroups=failover-agi\$/SupplementaryGroups=$SERVICE_USER/" \
  systemd/failover-agi.service > "$ROOT/etc/systemd/system/failover-agi.service"
chmod 0644 "$ROOT/etc/systemd/system/failover-agi.service"
ln -sf "$PREFIX/dist/src/cli.js" "$ROOT/usr/local/bin/failover-agi"
chmod 0755 "$ROOT$PREFIX/dist/src/cli.js"

echo "checking"
node "$ROOT$PREFIX/dist/src/cli.js" check-config "$config"
if [ -z "$ROOT" ] && command -v systemd-analyze >/dev/null; then systemd-analyze verify /etc/systemd/system/failover-agi.service; fi

if [ -z "$ROOT" ]; then
  systemctl daemon-reload
  if [ "$start" = yes ]; then
    systemctl enable --now failover-agi
    systemctl --no-pager status failover-agi || true
  fi
fi
cat <<MSG
Installed${ROOT:+ into $ROOT}. Next:
  - edit /etc/failover-agi/config.json (carriers, routes), then: systemctl reload failover-agi
  - AMI and database secrets: /etc/default/failover-agi (root:$SERVICE_USER 0640)
  - the AGI key Asterisk must send: /etc/failover-agi/agi-key; regenerate your dialplan so its AGI URL holds it:
      failover-agi dialplan --config /etc/failover-agi/config.json --flavor plain|freepbx|vicidial
  - schema: failover-agi migrate   (when db.host is set)
  - operators: usermod -aG $OPS_GROUP <name>, then: failover-agi status  (never add people to $SERVICE_USER)
MSG
