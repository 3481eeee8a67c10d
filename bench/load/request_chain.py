#!/usr/bin/env python3
"""Where a proxied keep-alive request waits, from the proxy's own socket calls.

Record the proxy's calls while a load runs, then read them back:

    perf record -e syscalls:sys_enter_recvfrom,syscalls:sys_exit_recvfrom,syscalls:sys_enter_sendto,\\
syscalls:sys_exit_epoll_wait -p PID -o calls.data -- sleep 2
    perf script -i calls.data -F tid,time,event,trace > calls.txt
    bench/load/request_chain.py calls.txt

(For nginx, which answers with writev, record sys_enter_writev as well: it counts as a send.)

Each request is followed through the proxy: A, from the client's request read to the upstream send; B,
from there to the upstream answer's read; C, from there to the send to the client; D, from there to the
client's next request on that connection. A and C are the proxy's own work plus any stall of its loop;
B and D are the backend's and the client's turn plus the time the proxy takes to notice their answer.
A request is a read of under `--request-bytes` from a connection the proxy never sends to upstream.
Prints each interval's percentiles, the longest A stalls and the mean events per epoll_wait.
"""
import argparse
import re
import statistics

FD = re.compile(r"fd: (0x[0-9a-f]+)")


def parse(path):
    """(time, kind, fd) for every read that brought bytes ('R', with its size) and every send ('S')."""
    events, waits, entered = [], [], {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) < 4:
                continue
            tid, t, name = p[0], float(p[1].rstrip(":")), p[2]
            if "sys_enter_recvfrom" in name:
                entered[tid] = int(FD.search(line).group(1), 16)
            elif "sys_exit_recvfrom" in name:
                ret = int(p[3], 16)
                fd = entered.pop(tid, -1)
                if 0 < ret < 1 << 63:
                    events.append((t, "R", fd, ret))
            elif "sys_enter_sendto" in name or "sys_enter_writev" in name:
                events.append((t, "S", int(FD.search(line).group(1), 16), 0))
            elif "sys_exit_epoll_wait" in name:
                waits.append(int(p[3], 16))
    return events, waits


def chain(events, request_bytes):
    a, b, c, d, stalls = [], [], [], [], []
    clients, upstream_sent, client_sent = set(), {}, {}
    last_request = None
    for i, (t, kind, fd, size) in enumerate(events):
        if kind == "R" and size < request_bytes and fd not in upstream_sent:
            clients.add(fd)
            if fd in client_sent:
                d.append(t - client_sent.pop(fd))
            last_request = (t, fd)
        elif kind == "S" and last_request and fd not in clients:
            t1, client = last_request
            a.append(t - t1)
            stalls.append((t - t1, t1))
            upstream_sent[fd] = (t, client)
            last_request = None
        elif kind == "R" and fd in upstream_sent:
            t2, client = upstream_sent.pop(fd)
            b.append(t - t2)
            # The proxy sends the answer on from the same turn of its loop: look a little ahead.
            for t6, k6, fd6, _ in events[i + 1:i + 64]:
                if k6 == "S" and fd6 == client:
                    c.append(t6 - t)
                    client_sent[client] = t6
                    break
    return a, b, c, d, sorted(stalls, reverse=True)[:5]


def show(name, xs):
    xs = sorted(xs)
    if not xs:
        print(f"{name:34s} none")
        return
    at = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))] * 1e3
    print(f"{name:34s} n={len(xs):7d}  p50 {at(.5):7.3f}  p90 {at(.9):7.3f}  p99 {at(.99):7.3f}  "
          f"p99.9 {at(.999):7.3f}  max {xs[-1] * 1e3:7.3f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("calls", help="perf script -F tid,time,event,trace output")
    ap.add_argument("--request-bytes", type=int, default=100,
                    help="a read from a client smaller than this is one request (wrk's GET is 41 bytes)")
    args = ap.parse_args()
    events, waits = parse(args.calls)
    a, b, c, d, stalls = chain(events, args.request_bytes)
    show("A request read -> upstream send", a)
    show("B upstream send -> answer read", b)
    show("C answer read -> client send", c)
    show("D client send -> next request", d)
    if waits:
        print(f"events per epoll_wait: mean {statistics.mean(waits):.1f} over {len(waits)} waits")
    t0 = events[0][0] if events else 0.0
    for took, at in stalls:
        print(f"longest A: {took * 1e3:7.3f} ms at {at - t0:7.3f} s")


if __name__ == "__main__":
    main()
