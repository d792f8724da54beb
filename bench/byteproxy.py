#!/usr/bin/env python3
"""byteproxy.py LISTEN_PORT_FILE TARGET_PORT COUNTS_FILE -- a TCP relay on
127.0.0.1 that counts the bytes each way (bench_cluster.sh puts it between
the coordinator and a shard to measure what the shard sends).  Writes the
port it listens on to LISTEN_PORT_FILE, and
"BYTES_FROM_TARGET BYTES_TO_TARGET OPEN_CONNECTIONS" to COUNTS_FILE (the
bytes cumulative; rewritten at every connection opened and closed, so that
a reader waits for OPEN_CONNECTIONS 0 before it takes the bytes).
Two threads a connection, blocking sockets, TCP_NODELAY: a hop costs a
recv and a send, no event loop (an asyncio relay cost 3-6x more CPU and
doubled the wall time of `predict features`, whose cursor makes many small
round trips: docs/scaling.md, "Session 31 (bench)")."""
import os
import socket
import sys
import threading

port_file, target_port, counts_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
down = up = 0
open_conns = 0


def save():
    # under lock
    with open(counts_file + ".tmp", "w") as f:
        f.write(f"{down} {up} {open_conns}\n")
    os.replace(counts_file + ".tmp", counts_file)


def pipe(src, dst, counts, k, done):
    buf = bytearray(262144)
    view = memoryview(buf)
    n_total = 0
    try:
        while True:
            n = src.recv_into(buf)
            if n == 0:
                break
            dst.sendall(view[:n])
            n_total += n
        # the end of one direction is passed on (a half close); the other
        # goes on until its own end
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        # a reset: both directions end
        for s in (dst, src):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    counts[k] = n_total
    done.release()


def handle(client):
    global down, up, open_conns
    try:
        target = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        return
    for s in (client, target):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with lock:
        open_conns += 1
        save()
    counts = [0, 0]
    done = threading.Semaphore(0)
    threading.Thread(target=pipe, args=(client, target, counts, 1, done), daemon=True).start()
    pipe(target, client, counts, 0, done)
    done.acquire()
    done.acquire()
    client.close()
    target.close()
    with lock:
        down += counts[0]
        up += counts[1]
        open_conns -= 1
        save()


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with lock:
        save()
    with open(port_file, "w") as f:
        f.write(str(srv.getsockname()[1]))
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


main()
