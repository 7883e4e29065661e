#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, for the integration tests.
# Idempotent: when `docker info` already answers (an engine may be running), nothing is
# done. Otherwise docker.io is installed if missing and dockerd is started in the
# background with the settings these machines need (vfs storage, no iptables, no bridge),
# then we wait (bounded) until it answers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state_dir="${LAMINA_STATE_DIR:-${TMPDIR:-/tmp}/lamina-dev}"
wait_seconds="${LAMINA_DOCKER_WAIT_SECONDS:-60}"

engine_answers() {
    command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

if engine_answers; then
    exit 0
fi

"$here/apt_install.sh" docker.io

mkdir -p "$state_dir"
log="$state_dir/dockerd.log"
echo "start_docker.sh: starting dockerd (log: $log)" >&2
nohup dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
    -H unix:///var/run/docker.sock >"$log" 2>&1 &
dockerd_pid=$!
echo "$dockerd_pid" >"$state_dir/dockerd.pid"

for _ in $(seq "$wait_seconds"); do
    if engine_answers; then
        echo "start_docker.sh: engine answers (dockerd pid $dockerd_pid)" >&2
        exit 0
    fi
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then
        echo "start_docker.sh: dockerd exited; last lines of $log:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    sleep 1
done
echo "start_docker.sh: dockerd did not answer within ${wait_seconds}s; see $log" >&2
exit 1
