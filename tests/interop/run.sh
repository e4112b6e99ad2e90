#!/usr/bin/env bash
# Interop: the official Alibaba Cloud Python SDKs (aliyun-python-sdk-core + aliyun-python-sdk-rds,
# signature v1; alibabacloud-rds20140815, signature V3; alibabacloud-credentials for RamRoleArn
# and EcsRamRole) against `migtop simulate`, and migtop itself through the same two modes.
#
#   tests/interop/run.sh [PATH_TO_MIGTOP]      (default: $MIGTOP_BIN, else target/debug/migtop)
#
# Installs the SDKs into a throwaway venv. Exits 0 on success, 1 on failure, and 77 (the
# autotools "skipped" code) saying why when a tool is missing: no python3, no venv module, or
# PyPI out of reach. The Rust test (tests/it/interop.rs) makes 77 a skip locally and a failure
# under CI.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-${MIGTOP_BIN:-$root/target/debug/migtop}}
python=${PYTHON:-python3}
packages=${INTEROP_PACKAGES:-aliyun-python-sdk-core aliyun-python-sdk-rds alibabacloud-rds20140815 alibabacloud-credentials}

say() { echo "interop: $*"; }
fail() { say "FAIL: $*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }

[ -x "$bin" ] || fail "no migtop binary at $bin (run cargo build, or pass its path)"
command -v "$python" >/dev/null || skip "$python not found (install python3 and python3-venv)"

work=$(mktemp -d "${TMPDIR:-/tmp}/migtop-interop.XXXXXX")
sim_pid=""
cleanup() {
    if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
        kill -TERM "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

index=${PIP_INDEX_URL:-https://pypi.org/simple}
if ! "$python" - "$index" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/pip/", timeout=15).read(1)
PY
then
    skip "PyPI ($index) cannot be reached from here"
fi

"$python" -m venv "$work/venv" || skip "cannot create a venv (install python3-venv)"
say "installing $packages into a throwaway venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check $packages \
    || fail "pip install failed although PyPI is reachable"
"$work/venv/bin/pip" list --disable-pip-version-check 2>/dev/null \
    | grep -Ei '^(aliyun-python-sdk|alibabacloud-rds|alibabacloud-tea-openapi|alibabacloud-credentials )' | sed 's/^/interop:   /' || true

# A throwaway key pair and HOME, so neither the user's environment nor ~/.aliyun matter.
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tInteropCheckKey
export ALIBABA_CLOUD_ACCESS_KEY_SECRET="interop-$RANDOM-$RANDOM-secret"
unset ALIBABA_CLOUD_SECURITY_TOKEN ALIBABA_CLOUD_PROFILE ALIBABA_CLOUD_ROLE_ARN ALIBABA_CLOUD_ECS_METADATA \
    ALIBABA_CLOUD_CREDENTIALS_URI ALIBABA_CLOUD_STS_ENDPOINT ALICLOUD_ACCESS_KEY ALICLOUD_SECRET_KEY || true
mkdir -p "$work/home"
HOME="$work/home" "$bin" simulate >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!

for _ in $(seq 1 100); do
    [ -s "$work/sim.out" ] && grep -q '^instances: ' "$work/sim.out" && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.err"; fail "migtop simulate exited early"; }
    sleep 0.1
done
endpoint=$(sed -n '1s/^listening on //p' "$work/sim.out")
instances=$(sed -n '2s/^instances: //p' "$work/sim.out")
[ -n "$endpoint" ] && [ -n "$instances" ] || { cat "$work/sim.out" "$work/sim.err"; fail "migtop simulate did not announce itself"; }
say "simulator at $endpoint serving $instances"

status=0
MIGTOP_SIM_ENDPOINT="$endpoint" MIGTOP_SIM_INSTANCES="$instances" MIGTOP_BIN="$bin" \
    "$work/venv/bin/python" "$here/check.py" || status=$?
# The simulator logs every request: never a secret or a temporary token.
if grep -q -e "$ALIBABA_CLOUD_ACCESS_KEY_SECRET" -e 'CAIS[A-Za-z0-9]\{40\}' "$work/sim.err"; then
    say "FAIL: a secret or an STS token reached the simulator's log"
    status=1
fi
if [ "$status" -ne 0 ]; then
    say "simulator log (last 30 lines):"
    tail -n 30 "$work/sim.err" | sed 's/^/  /'
fi
exit "$status"
