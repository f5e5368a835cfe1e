#!/usr/bin/env bash
# Installs the Java services the integration tests start (idempotent, cached outside the repo):
# runs every test/services/install-<service>.sh except install-system.sh (Debian packages, run
# before this by .ci/run): DynamoDB Local (install-dynamodb-local.sh), Kafka (install-kafka.sh), ...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for script in "$here"/install-*.sh; do
  case "$(basename "$script")" in
    install-system.sh|install-jars.sh) continue ;;
  esac
  echo "== $(basename "$script")"
  bash "$script"
done
