#!/usr/bin/env bash
# Installs DynamoDB Local (the online-store integration tests' DynamoDB) from Maven Central (idempotent).
# Resolves com.amazonaws:DynamoDBLocal + its runtime deps, including the sqlite4java native libraries,
# with `mvn dependency:copy-dependencies` into ~/.m2/fenestra/dynamodb-local-<version>/lib (outside the
# repo; Maven's own cache is ~/.m2/repository), and puts the Linux native library under the name
# sqlite4java loads (native/libsqlite4java-linux-amd64.so). test/services/dynamodb-local.ts runs it
# with the machine's Java (>= 17).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/dynamodb-local/pom.xml"
version="$(sed -n 's:.*<dynamodb.local.version>\(.*\)</dynamodb.local.version>.*:\1:p' "$pom")"
dest="${FENESTRA_DYNAMODB_LOCAL_HOME:-$HOME/.m2/fenestra/dynamodb-local-$version}"
marker="$dest/.complete"
# Test files may start DynamoDB Local in parallel on a fresh machine: one installer at a time.
mkdir -p "$(dirname "$dest")"
exec 9>"$dest.lock"
flock 9
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$(sha256sum "$pom" | cut -d' ' -f1)" ]; then
  echo "dynamodb-local $version ready in $dest ($(ls "$dest/lib" | wc -l) files, cached)"
  exit 0
fi
command -v java >/dev/null 2>&1 || { echo "install-dynamodb-local: java not found (need a JRE >= 17 on PATH: apt-get install -y openjdk-17-jre-headless)" >&2; exit 1; }
command -v mvn >/dev/null 2>&1 || { echo "install-dynamodb-local: mvn not found (apt-get install -y maven)" >&2; exit 1; }
rm -rf "$dest/lib" "$dest/native"
mkdir -p "$dest/lib" "$dest/native"
mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest/lib" -Dmdep.overWriteReleases=true
ls "$dest/lib"/DynamoDBLocal-"$version".jar >/dev/null
arch="$(uname -m)"
case "$arch" in
  x86_64) native=linux-amd64 ;;
  aarch64) native=linux-aarch64 ;;
  *) echo "install-dynamodb-local: no sqlite4java native library for $arch" >&2; exit 1 ;;
esac
so="$(ls "$dest/lib"/libsqlite4java-"$native"-*.so 2>/dev/null | head -1 || true)"
[ -n "$so" ] || { echo "install-dynamodb-local: libsqlite4java-$native-*.so was not resolved (see $pom)" >&2; exit 1; }
cp "$so" "$dest/native/libsqlite4java-$native.so"
sha256sum "$pom" | cut -d' ' -f1 > "$marker"
echo "dynamodb-local $version installed in $dest ($(ls "$dest/lib" | wc -l) files, $(du -sh "$dest/lib" | cut -f1))"
