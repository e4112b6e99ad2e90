#!/usr/bin/env bash
# What `migtop watch` costs next to a long-running loop over the official Python SDK doing the
# same polling (issue 12, item 7): CPU time, peak RSS and bytes written to the terminal, each
# in its own pty against the same `migtop simulate`. Figures go in BENCHMARKS.md.
#
#   benches/side_by_side.sh                       # 5 instances, 2 s interval, 60 s, 120x40
#   benches/side_by_side.sh --duration 5          # a quick check that it runs
#   benches/side_by_side.sh --scale 100x10 --interval 5 --only migtop
#
# Builds the release binary (MIGTOP_BIN overrides it) and installs the SDK
# (aliyun-python-sdk-core, aliyun-python-sdk-rds) once into target/sdk-venv (SDK_PYTHON
# overrides it). Other arguments go to benches/support/side_by_side.py (see its --help).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bin=${MIGTOP_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet --bin migtop
    bin=$root/target/release/migtop
fi

python=${SDK_PYTHON:-}
if [ -z "$python" ]; then
    venv=$root/target/sdk-venv
    if ! "$venv/bin/python" -c 'import aliyunsdkcore, aliyunsdkrds' 2>/dev/null; then
        echo "side_by_side: installing the official SDK into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check aliyun-python-sdk-core aliyun-python-sdk-rds
    fi
    python=$venv/bin/python
fi

exec python3 "$root/benches/support/side_by_side.py" --migtop "$bin" --python "$python" "$@"
