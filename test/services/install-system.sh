#!/usr/bin/env bash
# Installs the Debian packages the integration tests start as real services (idempotent).
# redis-server: online-store tests; postgresql: the example third-party plugin's tests.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  # The tests start their own servers on free ports; stop any the package started.
  (command -v service >/dev/null && { $SUDO service redis-server stop || true; $SUDO service postgresql stop || true; }) >/dev/null 2>&1 || true
fi
echo "system packages ready: redis-server $(redis-server --version | awk '{print $3}'), postgresql $(ls /usr/lib/postgresql/ | tail -1)"
