"""http: the HTTP benchmark's aiohttp server on uvloop, started by
bench/http/driver.py: GET / "Hello, World!" (text/plain), GET /json
{"message":"Hello, World!"}, access log off.

  python3 http_aiohttp.py PORT
"""
import sys

import uvloop
from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


async def json_(request):
    return web.json_response({"message": "Hello, World!"})


app = web.Application()
app.add_routes([web.get("/", hello), web.get("/json", json_)])
uvloop.install()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
