"""A small FastAPI app: JSON, path parameters, a lifespan, and a streamed response."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

state: dict[str, str] = {}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state["ready"] = "yes"  # runs once per instance, at cold start
    yield
    state.clear()


app = FastAPI(title="strum + FastAPI", lifespan=lifespan)


@app.get("/")
async def index() -> dict[str, str]:
    return {"hello": "FastAPI on strum", "ready": state.get("ready", "no")}


@app.get("/items/{item_id}")
async def item(item_id: int, q: str | None = None) -> dict[str, object]:
    return {"item_id": item_id, "q": q}


@app.get("/count")
async def count() -> StreamingResponse:
    async def numbers() -> AsyncIterator[bytes]:
        for number in range(1, 6):
            yield f"{number}\n".encode()

    return StreamingResponse(numbers(), media_type="text/plain")
