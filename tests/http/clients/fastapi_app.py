"""The FastAPI app that tests/http/fastapi_twin.c reproduces in C: the
seed's sample routes, typed parameters, CORS open to all, StaticFiles at "/"
with html=True, a lifespan. fastapi_compare.py serves both and compares
their answers request by request."""
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield


app = FastAPI(lifespan=lifespan)
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])


@app.get("/")
async def read_root():
    return {"message": "Hello World"}


@app.get("/items/{item_id}")
async def read_item(item_id: int):
    return {"item_id": item_id, "name": f"Item {item_id}"}


@app.get("/id/{bug_id}")
async def search(bug_id: int):
    if bug_id == 404:
        return {"error": "未找到该 bug"}
    return {"bug_id": bug_id, "title": "标题 \"quoted\" \\ \n\t\u0001 é", "none": None,
            "ratio": 0.1, "big": 10 ** 16 + 0.0, "flag": True}


@app.get("/files/{path:path}")
async def files(path: str):
    return {"path": path}


app.mount("/", StaticFiles(directory=os.environ["TWIN_STATIC"], html=True), name="static")
