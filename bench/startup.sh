#!/usr/bin/env bash
# Startup time of `orch --version` (release build): median of N runs.
# Not a test: run it, read the figure.   bench/startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
cargo build --release --quiet
bin=target/release/orch
"$bin" --version >/dev/null
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 20 --runs "$runs" --export-json /tmp/orch-startup.json "$bin --version" >/dev/null
    python3 -c 'import json,statistics as s;t=json.load(open("/tmp/orch-startup.json"))["results"][0]["times"];print(f"orch --version: median {s.median(t)*1000:.2f} ms, mean {s.mean(t)*1000:.2f} ms over {len(t)} runs (hyperfine)")'
else
    python3 - "$bin" "$runs" <<'PY'
import subprocess, sys, time, statistics
bin, runs = sys.argv[1], int(sys.argv[2])
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run([bin, "--version"], stdout=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print(f"orch --version: median {statistics.median(times)*1000:.2f} ms, p90 {sorted(times)[int(runs*0.9)]*1000:.2f} ms over {runs} runs (python spawn)")
PY
fi
