"""Contract list API throughput vs a bare JSON endpoint on the same server.

Goal (issue 5): the list API serves at least 0.4x the requests per second of a bare
JSON endpoint of the same server returning 50 prebuilt dicts, measured in the same run
(`bench/bench_urls.py`: the same page built once, `json.dumps` per request). Printed too:
the same page from one raw SQL query + `json.dumps` (what the database adds), and
`/healthz` (no JSON at all) as the server's ceiling.

    .venv/bin/python bench/api_list.py [--requests 400] [--rounds 5] [--page-size 50]
        [--clients 4]

Builds a fresh data folder with the demo (200 contracts), starts `qiyue serve`, and
drives it from this process with keep-alive connections. Each round measures every
endpoint in turn; the medians over the rounds are compared, and the ratio's range over
the rounds is printed beside it (a 2-core machine shared by client and server is noisy).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], env: dict[str, str]) -> str:
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout


def drive(
    port: int, path: str, headers: dict[str, str], count: int, clients: int
) -> tuple[float, list[float]]:
    per_client = count // clients

    def worker(_: int) -> list[float]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        times = []
        for _i in range(per_client):
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, (response.status, body[:200])
            times.append(time.perf_counter() - t0)
        conn.close()
        return times

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [t for chunk in pool.map(worker, range(clients)) for t in chunk]
    elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["QIYUE_DATA_DIR"] = data
        env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
        env["PYTHONPATH"] = os.pathsep.join(
            [os.path.dirname(os.path.abspath(__file__)), env.get("PYTHONPATH", "")]
        )
        qiyue = [sys.executable, "-m", "qiyue"]
        run([*qiyue, "migrate", "-v0"], env)
        # The demo's jobs (indexing, extraction) run now, not in the server's job
        # threads while the endpoints are measured.
        run([*qiyue, "demo"], {**env, "QIYUE_JOBS_IMMEDIATE": "1"})
        token = run([*qiyue, "token", "create", "manager"], env).strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [*qiyue, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            auth = {"Authorization": f"Bearer {token}"}
            list_path = f"/api/v1/contracts?page_size={args.page_size}"
            bare_path = f"/bench/bare-contracts?page_size={args.page_size}"
            pre_path = f"/bench/prebuilt-contracts?page_size={args.page_size}"
            paths = [("/healthz", {}), (pre_path, {}), (bare_path, {}), (list_path, auth)]
            for path, headers in paths:
                drive(port, path, headers, 40, 2)  # warm up
            runs: dict[str, list[tuple[float, list[float]]]] = {p: [] for p, _h in paths}
            for _round in range(args.rounds):
                for path, headers in paths:
                    runs[path].append(drive(port, path, headers, args.requests, args.clients))
        finally:
            server.terminate()
            server.wait(timeout=10)

    def ms(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] * 1000

    def median(path: str) -> tuple[float, list[float]]:
        rps = statistics.median(r for r, _lat in runs[path])
        return rps, [t for _r, lat in runs[path] for t in lat]

    ceil_rps, ceil_lat = median("/healthz")
    pre_rps, pre_lat = median(pre_path)
    bare_rps, bare_lat = median(bare_path)
    list_rps, list_lat = median(list_path)
    per_round = [lst[0] / pre[0] for lst, pre in zip(runs[list_path], runs[pre_path], strict=True)]
    print(f"{args.rounds} rounds of {args.requests} requests, {args.clients} clients; medians")
    print(f"/healthz (no database)   : {ceil_rps:8.1f} req/s  p50 {ms(ceil_lat, 50):6.1f} ms")
    print(f"bare JSON, 50 prebuilt   : {pre_rps:8.1f} req/s  p50 {ms(pre_lat, 50):6.1f} ms")
    print(f"bare JSON, raw SQL page  : {bare_rps:8.1f} req/s  p50 {ms(bare_lat, 50):6.1f} ms")
    print(
        f"contract list (page {args.page_size:>3}) : {list_rps:8.1f} req/s  "
        f"p50 {ms(list_lat, 50):6.1f} ms  p95 {ms(list_lat, 95):6.1f} ms"
    )
    print(f"ratio list / raw SQL     : {list_rps / bare_rps:8.2f}x")
    print(
        f"ratio list / prebuilt    : {list_rps / pre_rps:8.2f}x  (goal >= 0.4x; rounds "
        f"{min(per_round):.2f}-{max(per_round):.2f}x)"
    )


if __name__ == "__main__":
    main()
