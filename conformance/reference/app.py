"""App assembly: the route families, the services' lifespan, flat errors, injected latency."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .common.delays import DelayMiddleware
from .common.errors import ApiError
from .domain import bindings, filesystems, forks, netns, presigned, runs, tunnels
from .domain.backend import Backend
from .domain.dishonest import DishonestMiddleware, dishonest_faults
from .domain.variations import ExtraFieldsMiddleware
from .legacy030 import Legacy030Middleware, faults_030
from .routes import bindings as binding_routes
from .routes import filesystems as filesystem_routes
from .routes import fork as fork_routes
from .routes import presigned as presigned_routes
from .routes import resize as resize_routes
from .routes import runs as run_routes
from .routes import sessions as session_routes
from .routes import sync as sync_routes
from .routes import tunnels as tunnel_routes
from .routes import vms as vm_routes

__all__ = ["ROUTE_FAMILIES", "SERVICES", "build_app", "error_response"]

log = logging.getLogger("arker.reference")

# Each exposes routes() -> list[Route]; they match first to last.
ROUTE_FAMILIES: tuple[ModuleType, ...] = (
    fork_routes,
    vm_routes,
    run_routes,
    session_routes,
    resize_routes,
    sync_routes,
    presigned_routes,
    filesystem_routes,
    binding_routes,
    tunnel_routes,
)
# Each exposes install(backend) and optionally async start(backend) / stop(backend): installed
# and started in this order (namespaces before recovery restarts runs, runs before tunnels
# settle theirs), stopped in the reverse one.
SERVICES: tuple[ModuleType, ...] = (
    netns,
    forks,
    runs,
    presigned,
    filesystems,
    bindings,
    tunnels,
)


def error_response(backend: Backend, exc: ApiError) -> Response:
    """The JSON response for ``exc`` (flat, unless a fault changes the envelope)."""
    status, body = exc.status, exc.body()
    if exc.code == "not_found" and backend.fault("not-found-as-500"):
        status, body = 500, {"code": "internal", "message": exc.message}
    if exc.code == "conflict" and backend.fault("conflict-as-400"):
        status = 400
    if backend.fault("error-envelope-nested"):
        body = {"error": body}
    if backend.fault("errors-text-plain"):  # the JSON text, labelled as plain text
        text = json.dumps(body)
        return Response(text, status, headers=exc.headers or None, media_type="text/plain")
    return JSONResponse(body, status_code=status, headers=exc.headers or None)


async def root(request: Request) -> Response:
    """``GET /``: who is answering."""
    try:
        version = importlib.metadata.version("arker-conformance")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return JSONResponse({"name": "arker-reference", "version": version, "contract": "0.5.1"})


class LatencyMiddleware:
    """Delays every HTTP response by ``latency_ms`` (imitates a remote backend)."""

    def __init__(self, app: ASGIApp, latency_ms: int) -> None:
        self.app = app
        self.delay = latency_ms / 1000.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.delay > 0:
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


def _handlers(backend: Backend) -> dict[Any, Callable[..., Any]]:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(backend, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            err = ApiError("not_found", f"no route for {request.method} {request.url.path}")
        elif exc.status_code == 405:
            # The contract maps bad_request to 400; Allow says what would work.
            allow = (exc.headers or {}).get("Allow", "")
            err = ApiError(
                "bad_request",
                f"method {request.method} not allowed here",
                headers={"Allow": allow} if allow else None,
            )
        else:
            err = ApiError("bad_request", str(exc.detail), status=exc.status_code)
        return error_response(backend, err)

    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"code": "internal", "message": "internal server error"}, 500)

    return {ApiError: api_error, HTTPException: http_error, Exception: crash}


def build_app(backend: Backend) -> Starlette:
    """The Starlette app serving ``backend``: every family's routes plus ``GET /``.

    Example: ``uvicorn.run(build_app(backend), host="127.0.0.1", port=0)``.
    """
    for service in SERVICES:
        service.install(backend)
    routes: list[BaseRoute] = [Route("/", root, methods=["GET"])]
    for family in ROUTE_FAMILIES:
        routes.extend(family.routes())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for module in SERVICES:
            if hasattr(module, "start"):
                await module.start(backend)
        yield
        for module in reversed(SERVICES):
            if hasattr(module, "stop"):
                await module.stop(backend)

    app = Starlette(routes=routes, exception_handlers=_handlers(backend), lifespan=lifespan)
    app.state.backend = backend
    if dishonest_faults(backend):
        app.add_middleware(DishonestMiddleware, rules=dishonest_faults(backend))
    if faults_030(backend):
        app.add_middleware(Legacy030Middleware, faults=faults_030(backend))
    if backend.variations.extra_fields:
        app.add_middleware(ExtraFieldsMiddleware)
    if backend.latency_ms > 0:
        app.add_middleware(LatencyMiddleware, latency_ms=backend.latency_ms)
    if backend.delays.active:
        app.add_middleware(DelayMiddleware, delays=backend.delays)
    return app
