"""The stub's ASGI app: operations on fixed paths dispatched straight to their handlers, everything else by Starlette.

Starlette's stack (its error and exception middleware, a router that tries each route's pattern in turn, a Request
object and an endpoint wrapper per request) cost a JSON generation about as much CPU as the gateway's own work. A
request for an operation whose path has no parameter (the native and OpenAI routes) is looked up by method and path
in a dict and its handler called with the ASGI scope and receive; an exception it raises goes to the handler Starlette
would have called, so the answer is the same byte for byte. The rest (Azure deployment routes, the reserved
/_pixelpact/ routes, unknown paths, a wrong method, an app mounted under a root_path) goes through the Starlette app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

#: An operation's handler: the request's ASGI scope and receive callable in, the answer out (errors raised).
Handler = Callable[[Scope, Receive], Awaitable[Response]]
#: Turns an exception into an answer, as Starlette's exception handlers do.
ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


class StubApp:
    """An ASGI app: `direct` handlers by (method, path) first, then `starlette` (which also has them as routes)."""

    __slots__ = ("_direct", "_handlers", "starlette")

    def __init__(
        self,
        starlette: Starlette,
        direct: Mapping[tuple[str, str], Handler],
        handlers: Mapping[type[Exception], ExceptionHandler],
    ) -> None:
        self.starlette = starlette
        self._direct = dict(direct)
        self._handlers = dict(handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = None
        if scope["type"] == "http" and not scope.get("root_path"):
            handler = self._direct.get((scope["method"], scope["path"]))
        if handler is None:
            await self.starlette(scope, receive, send)
            return
        try:
            response = await handler(scope, receive)
        except Exception as exc:
            await self._fail(scope, receive, send, exc)
            return
        await response(scope, receive, send)

    async def _fail(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        """Answer `exc` as Starlette does: its most specific handler; for the catch-all one, answer and re-raise (the
        server logs the traceback, as after Starlette's ServerErrorMiddleware)."""
        for cls in type(exc).__mro__:
            on_error: Any = self._handlers.get(cls)
            if on_error is not None:
                break
        else:
            raise exc
        response = await on_error(Request(scope, receive), exc)
        await response(scope, receive, send)
        if cls is Exception:
            raise exc
