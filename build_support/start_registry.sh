#!/usr/bin/env bash
# Make sure an OCI registry (the CNCF distribution registry, Debian's docker-registry)
# answers on loopback, by default 127.0.0.1:5000, for tests and benchmarks that push.
# Idempotent: when http://ADDRESS/v2/ already answers, nothing is done. Its config and
# blobs live under a state directory; we wait (bounded) until /v2/ answers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
address="${LAMINA_REGISTRY_ADDR:-127.0.0.1:5000}"
state_dir="${LAMINA_STATE_DIR:-${TMPDIR:-/tmp}/lamina-dev}/registry-${address//[:.]/-}"
wait_seconds="${LAMINA_REGISTRY_WAIT_SECONDS:-30}"

registry_answers() {
    python3 - "http://$address/v2/" <<'PY'
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except (OSError, urllib.error.URLError):
    sys.exit(1)
PY
}

if registry_answers; then
    exit 0
fi

"$here/apt_install.sh" docker-registry

mkdir -p "$state_dir/data"
config="$state_dir/config.yml"
cat >"$config" <<YAML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $state_dir/data}
  delete: {enabled: true}
http: {addr: $address}
YAML
log="$state_dir/registry.log"
echo "start_registry.sh: starting docker-registry on $address (log: $log)" >&2
nohup docker-registry serve "$config" >"$log" 2>&1 &
registry_pid=$!
echo "$registry_pid" >"$state_dir/registry.pid"

for _ in $(seq "$wait_seconds"); do
    if registry_answers; then
        echo "start_registry.sh: registry answers on $address (pid $registry_pid)" >&2
        exit 0
    fi
    if ! kill -0 "$registry_pid" 2>/dev/null; then
        echo "start_registry.sh: docker-registry exited; last lines of $log:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    sleep 1
done
echo "start_registry.sh: registry did not answer within ${wait_seconds}s; see $log" >&2
exit 1
