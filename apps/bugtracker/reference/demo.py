# The seed's demo.py (tutorial 001), indentation restored, unchanged but for
# two things:
#  - the __main__ block's host and port come from the environment (the seed
#    binds 0.0.0.0:8910);
#  - FastAPI(lifespan=...) appeared in FastAPI 0.93. Debian 12 ships 0.92,
#    whose FastAPI() puts an unknown lifespan= into app.extra and never runs
#    it: the pool is never opened and every /id/<int> request fails with
#    500 Internal Server Error. The two lines marked "0.92" hand the
#    lifespan to the router (Starlette 0.26 supports it), which is what
#    FastAPI 0.93+ does with the argument, so the service behaves as its
#    author meant. CIO_REFERENCE_VERBATIM=1 leaves them out (the seed as it
#    runs on Debian 12).
# Run it from a directory holding "static", as the seed does:
#   cd DIR_WITH_STATIC && python3 -m uvicorn --app-dir .../reference demo:app
import os
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.middleware.cors import CORSMiddleware
from contextlib import asynccontextmanager
from util.db_tool import init_db, close_db, get_bug_by_id
from loguru import logger
import uvicorn

@asynccontextmanager
async def lifespan(app: FastAPI):
    # ===== 启动阶段 =====
    await init_db()
    logger.info("数据库连接池已启动")
    yield
    # ===== 关闭阶段 =====
    await close_db()
    logger.info("数据库连接池已关闭")

app = FastAPI(lifespan=lifespan)
if "lifespan" in app.extra and not os.environ.get("CIO_REFERENCE_VERBATIM"):  # 0.92
    app.router.lifespan_context = app.extra.pop("lifespan")  # 0.92

app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_methods=["*"],
    allow_headers=["*"],
)


@app.get('/id/{bug_id}')
async def search_(bug_id: int):
    logger.info(f"收到查询请求: {bug_id}")
    result = await get_bug_by_id(bug_id)
    if not result:
        return {'error': '未找到该 bug'}
    return result


app.mount("/", StaticFiles(directory="static", html=True), name="static")


if __name__ == '__main__':
    uvicorn.run('demo:app', host=os.environ.get("BUGTRACKER_HOST", "0.0.0.0"),
                port=int(os.environ.get("BUGTRACKER_PORT", "8910")))
