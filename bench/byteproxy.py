#!/usr/bin/env python3
"""byteproxy.py LISTEN_PORT_FILE TARGET_PORT COUNTS_FILE -- a TCP relay on
127.0.0.1 that counts the bytes each way (bench_cluster.sh puts it between
the coordinator and a shard to measure what the shard sends).  Writes the
port it listens on to LISTEN_PORT_FILE, and after every closed connection
"BYTES_FROM_TARGET BYTES_TO_TARGET OPEN_CONNECTIONS" to COUNTS_FILE (the
bytes cumulative; rewritten at every connection opened and closed, so that
a reader waits for OPEN_CONNECTIONS 0 before it takes the bytes)."""
import asyncio
import sys

port_file, target_port, counts_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
down = up = 0
open_conns = 0


def save():
    with open(counts_file + ".tmp", "w") as f:
        f.write(f"{down} {up} {open_conns}\n")
    import os
    os.replace(counts_file + ".tmp", counts_file)


async def pipe(reader, writer, direction):
    global down, up
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if direction == "down":
                down += len(data)
            else:
                up += len(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(creader, cwriter):
    global open_conns
    try:
        treader, twriter = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        cwriter.close()
        return
    open_conns += 1
    save()
    await asyncio.gather(pipe(creader, twriter, "up"), pipe(treader, cwriter, "down"))
    open_conns -= 1
    save()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    with open(port_file, "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    save()
    async with server:
        await server.serve_forever()


asyncio.run(main())
