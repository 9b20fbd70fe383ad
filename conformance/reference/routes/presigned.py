"""``/_presigned/{token}``: the object store's signed URLs (``domain/presigned.py``).

No bearer key: the URL's signature (HMAC-SHA256 over method, token and expiry) is the
authority. ``PUT`` fills an upload, ``GET`` reads a VM file; a tampered or expired URL
answers 403 with a flat error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..common.errors import ApiError
from ..domain.backend import Backend, backend_of
from ..domain.presigned import get_upload, install_part, staging_file, verify

__all__ = ["routes"]

_COPY_BLOCK = 1024 * 1024


def _verify(backend: Backend, request: Request, method: str) -> tuple[str, str]:
    """The VM and name the request's presigned URL grants ``method`` on (else 403)."""
    query = request.query_params
    token = request.path_params["token"]
    return verify(backend, method, token, query.get("expires", ""), query.get("signature", ""))


async def _receive_into(request: Request, target: Path, size: int) -> int:
    """Stream the request body into ``target``; refuse more than ``size`` bytes."""
    received = 0
    handle = await run_in_threadpool(open, target, "wb")
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > size:
                raise ApiError("payload_too_large", f"body exceeds the declared upload size {size}")
            await run_in_threadpool(handle.write, chunk)
        await run_in_threadpool(os.fsync, handle.fileno())
    finally:
        handle.close()
    return received


async def put_object(request: Request) -> Response:
    """``PUT /_presigned/{token}``: the raw bytes of a presigned upload (no bearer key)."""
    backend = backend_of(request)
    vm_id, upload_id = _verify(backend, request, "PUT")
    upload = await run_in_threadpool(get_upload, backend, vm_id, upload_id)
    if upload is None:
        raise ApiError("not_found", f"upload {upload_id} not found (dropped or VM deleted)")
    if upload.written:
        raise ApiError("conflict", f"upload {upload_id} was already committed")
    declared = request.headers.get("content-length")
    if declared is not None and declared != str(upload.size):
        raise ApiError(
            "bad_request", f"Content-Length {declared} does not match upload size {upload.size}"
        )
    part = staging_file(backend, vm_id, upload_id).with_suffix(".part")
    try:
        received = await _receive_into(request, part, upload.size)
        if received != upload.size:
            raise ApiError("bad_request", f"received {received} of {upload.size} bytes")
        await run_in_threadpool(install_part, backend, upload, part)
    finally:
        part.unlink(missing_ok=True)
    return Response(status_code=200)


def _stream(handle: IO[bytes], size: int) -> Iterator[bytes]:
    # The handle is the file the lookup checked: renames by a run since change nothing.
    with handle:
        left = size
        while left > 0:
            block = handle.read(min(_COPY_BLOCK, left))
            if not block:
                return
            left -= len(block)
            yield block


async def get_object(request: Request) -> Response:
    """``GET /_presigned/{token}``: the raw bytes of a VM file (no bearer key)."""
    backend = backend_of(request)
    vm_id, vm_path = _verify(backend, request, "GET")
    backend.require_capability("sync.presigned")
    handle = await run_in_threadpool(lambda: backend.disk(vm_id).open_read(vm_path))
    size = os.fstat(handle.fileno()).st_size
    if backend.fault("sync-read-truncates") and size:
        size -= 1
    return StreamingResponse(
        _stream(handle, size),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size)},
    )


def routes() -> list[Route]:
    """The presigned object routes (authenticated by signature, not bearer key)."""
    return [
        Route("/_presigned/{token}", get_object, methods=["GET"]),
        Route("/_presigned/{token}", put_object, methods=["PUT"]),
    ]
