#!/usr/bin/env python3
"""The engine's own time for `logs` of a project (issue 14's logs line):
every container's whole log read at once over the engine's socket, bytes
only, no parsing or printing: what no client can beat.

    python3 bench/logs_floor.py PROJECT [RUNS]

Run it beside `orch -p PROJECT logs` and compose's (bench/output.sh makes
such a project: 50 services x 1,000 lines)."""
import socket
import subprocess
import sys
import threading
import time

args = [a for a in sys.argv[1:] if a != "--ms"]
project, runs = args[0], int(args[1]) if len(args) > 1 else 5
ids = subprocess.check_output(
    ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"]
).decode().split()


def read_log(cid, sizes):
    s = socket.socket(socket.AF_UNIX)
    s.connect("/var/run/docker.sock")
    s.sendall(f"GET /v1.41/containers/{cid}/logs?stdout=1&stderr=1 HTTP/1.0\r\nHost: d\r\n\r\n".encode())
    n = 0
    while b := s.recv(1 << 16):
        n += len(b)
    sizes.append(n)


times = []
for _ in range(runs):
    sizes = []
    t0 = time.monotonic()
    threads = [threading.Thread(target=read_log, args=(c, sizes)) for c in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times.append((time.monotonic() - t0) * 1000)
times.sort()
if "--ms" in sys.argv:  # one number, for bench/output.sh
    print(f"{times[len(times) // 2]:.0f}")
else:
    print(f"{len(ids)} containers, {sum(sizes)} bytes: median {times[len(times) // 2]:.0f} ms of {runs} runs")
