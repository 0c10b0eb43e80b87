#!/usr/bin/env python3
"""Latency of API reads under concurrent connections (standard library only).

Usage: latency.py BASE_URL TOKEN PATH [PATH ...] [--connections 50] [--seconds 10]
Each of the connections is a keep-alive HTTP/1.1 connection of its own thread that requests the
paths in turn; prints requests, errors, requests per second, p50 and p99 per path. A PATH may hold
{customer} and {invoice}: replaced by rotating values read from the API's first pages.
"""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("token")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    url = urllib.parse.urlsplit(args.base)
    headers = {"Authorization": "Bearer " + args.token}

    def connect():
        return http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    def get(conn, path):
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        return r.status, body

    conn = connect()
    _, body = get(conn, "/api/creditors")
    creditor = json.loads(body)["data"][0]["id"]
    _, body = get(conn, f"/api/c/{creditor}/customers?limit=500&sort=name")
    customers = [c["code"] for c in json.loads(body)["data"]]
    _, body = get(conn, f"/api/c/{creditor}/invoices?limit=500&open=true")
    invoices = [i["id"] for i in json.loads(body)["data"]]
    conn.close()

    results = {p: [] for p in args.paths}
    errors = {p: 0 for p in args.paths}
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def worker(n):
        c = connect()
        i = n
        while time.monotonic() < stop:
            for template in args.paths:
                path = template.format(
                    creditor=creditor,
                    customer=urllib.parse.quote(customers[i % len(customers)]),
                    invoice=invoices[i % len(invoices)],
                )
                start = time.perf_counter()
                try:
                    status, _ = get(c, path)
                except Exception:
                    status = 0
                    c.close()
                    c = connect()
                elapsed = time.perf_counter() - start
                with lock:
                    results[template].append(elapsed)
                    if status != 200:
                        errors[template] += 1
                i += args.connections

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    for p in args.paths:
        xs = sorted(results[p])
        if not xs:
            continue
        p99 = xs[min(len(xs) - 1, int(len(xs) * 0.99))]
        print(
            f"{p}: {len(xs)} requests, {errors[p]} errors, {len(xs) / wall:.0f}/s, "
            f"p50 {statistics.median(xs) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
