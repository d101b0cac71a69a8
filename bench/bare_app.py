"""The framework's limit: a bare Starlette app on the stub's paths, for bench/stub_bench.py (not a product module).

    .venv/bin/python -m uvicorn bench.bare_app:app --port 8081 --loop uvloop --http httptools --no-access-log

One route reads the JSON body and answers a small JSON object; one route reads a multipart form with Starlette's own
parser (`request.form()`, python-multipart) and answers the same. No validation, no images, no recording: what any
Starlette app on this uvicorn, uvloop and httptools pays before doing anything, so the stub's requests per second
divided by this app's is how close the stub is to its framework's limit.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def generations(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"created": 0, "size": len(body), "data": [{"url": "http://127.0.0.1/x.png"}]})


async def variations(request: Request) -> JSONResponse:
    async with request.form() as form:
        image = form.get("image")
        size = image.size if image is not None and not isinstance(image, str) else 0
        return JSONResponse({"created": 0, "size": size, "fields": len(form), "data": [{"url": "http://x/a.png"}]})


app = Starlette(
    routes=[
        Route("/v1/images/generations", generations, methods=["POST"]),
        Route("/v1/images/variations", variations, methods=["POST"]),
    ]
)
