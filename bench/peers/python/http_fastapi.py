"""http: the HTTP benchmark's FastAPI app under uvicorn (uvloop + httptools,
access log off), started by bench/http/driver.py: GET / "Hello, World!"
(text/plain), GET /json {"message":"Hello, World!"} - the tutorial's stack.

  python3 http_fastapi.py PORT
"""
import sys

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
async def hello():
    return "Hello, World!"


@app.get("/json")
async def json_():
    return {"message": "Hello, World!"}


if __name__ == "__main__":
    http = "httptools"
    try:
        import httptools  # noqa: F401
    except ImportError:
        http = "h11"
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http=http,
                access_log=False, log_level="warning")
