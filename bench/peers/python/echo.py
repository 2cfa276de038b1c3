"""echo: the echo server for the echo and connect benchmarks (bench/echo/).

    echo.py --loop asyncio|uvloop [--api streams|protocol]

streams: asyncio.start_server with a handler doing reader.read() +
writer.write() + await writer.drain(), the code an asyncio user writes.
protocol: a Protocol whose data_received writes the data back (the fastest
asyncio-level server). Listens on 127.0.0.1, any port; prints "port N".
"""
import asyncio
import sys

from common import parse_loop, run


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(16384)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(api):
    if api == "protocol":
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Echo, "127.0.0.1", 0, backlog=4096)
    else:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print("port %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    api = sys.argv[sys.argv.index("--api") + 1] if "--api" in sys.argv else "streams"
    run(parse_loop(), lambda: main(api))
