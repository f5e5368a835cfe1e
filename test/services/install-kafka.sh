#!/usr/bin/env bash
# Installs the Apache Kafka broker used by the streams integration tests (idempotent).
# Resolves org.apache.kafka:kafka_2.13 + runtime deps + Log4j2 from Maven Central with
# `mvn dependency:copy-dependencies` into ~/.cache/fenestra/kafka-<version>/libs (outside the repo;
# Maven's own cache is ~/.m2). test/services/kafka.ts starts it with the machine's Java.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
dest="${FENESTRA_KAFKA_HOME:-$HOME/.cache/fenestra/kafka-$version}"
marker="$dest/.complete"
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$(sha256sum "$pom" | cut -d' ' -f1)" ]; then
  echo "kafka $version ready in $dest ($(ls "$dest/libs" | wc -l) jars, cached)"
  exit 0
fi
command -v java >/dev/null 2>&1 || { echo "install-kafka: java not found (need a JRE >= 17 on PATH)" >&2; exit 1; }
command -v mvn >/dev/null 2>&1 || { echo "install-kafka: mvn not found (apt-get install maven)" >&2; exit 1; }
rm -rf "$dest/libs"
mkdir -p "$dest/libs"
mvn -q -B -f "$pom" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dest/libs" -Dmdep.overWriteReleases=true
ls "$dest/libs"/kafka_2.13-"$version".jar >/dev/null
sha256sum "$pom" | cut -d' ' -f1 > "$marker"
echo "kafka $version installed in $dest ($(ls "$dest/libs" | wc -l) jars, $(du -sh "$dest/libs" | cut -f1))"
