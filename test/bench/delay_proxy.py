"""A slow backend for the benchmarks: a TCP proxy (asyncio) that holds every
chunk the client sends for DELAY seconds before passing it to the target, so
each small request (one chunk) answers ~DELAY later than it would directly.
Answers flow back unchanged.

    python3 delay_proxy.py TARGET_HOST TARGET_PORT DELAY_SECONDS [LISTEN_PORT]

Prints "listening PORT" on stdout once it accepts connections; stops on SIGTERM.
"""
import asyncio
import signal
import sys


async def pump(reader, writer, delay):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if delay:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    host, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    listen_port = int(sys.argv[4]) if len(sys.argv) > 4 else 0

    async def handle(client_r, client_w):
        try:
            up_r, up_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(pump(client_r, up_w, delay), pump(up_r, client_w, 0))

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, backlog=1024)
    print("listening", server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
