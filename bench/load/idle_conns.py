#!/usr/bin/env python3
"""Open N keep-alive HTTP/1.1 connections to HOST:PORT, make one GET on each, then hold them idle.

Prints `OPEN <ok> <failed>` once every connection has had its answer (or failed), keeps them open
until a line arrives on stdin (or --hold seconds pass), then closes them all and exits. Used by
compare.py to measure the proxy's RSS per idle connection. Bounded: never runs past --deadline.
"""
import argparse
import asyncio
import os
import resource
import sys


async def open_one(host, port, path, sem, conns, timeout):
    async with sem:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await asyncio.wait_for(reader.readexactly(length), timeout)
            if not head.startswith(b"HTTP/1.1 2"):
                writer.close()
                return False
            conns.append(writer)
            return True
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return False


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--path", default="/")
    ap.add_argument("--parallel", type=int, default=256)
    ap.add_argument("--hold", type=float, default=60.0)
    ap.add_argument("--deadline", type=float, default=120.0)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.n + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))

    conns = []
    sem = asyncio.Semaphore(args.parallel)
    tasks = [open_one(args.host, args.port, args.path, sem, conns, 10.0) for _ in range(args.n)]
    try:
        results = await asyncio.wait_for(asyncio.gather(*tasks), args.deadline)
    except asyncio.TimeoutError:
        results = []
    ok = sum(1 for r in results if r)
    print(f"OPEN {ok} {args.n - ok}", flush=True)

    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), args.hold)
    except asyncio.TimeoutError:
        pass
    for w in conns:
        w.close()
    print("CLOSED", flush=True)
    # The stdin reader thread may still be blocked; do not wait for it.
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
