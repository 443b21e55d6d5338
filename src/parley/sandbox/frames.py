"""Length-prefixed JSON frames: how the server and its sandbox workers talk over pipes."""

from __future__ import annotations

import json
import os
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


def encode(message: Any) -> bytes:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(body)) + body


def write(fd: int, message: Any) -> None:
    write_all(fd, encode(message))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from `fd`, or None at end of file."""
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_body(fd: int) -> bytes | None:
    """The next frame's body (JSON bytes), or None at end of file."""
    header = read_exactly(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"a frame of {size} bytes is over the limit")
    return read_exactly(fd, size)


def read(fd: int) -> Any | None:
    """The next frame's message, or None at end of file."""
    body = read_body(fd)
    return None if body is None else json.loads(body)


def complete(data: bytearray) -> tuple[bytes, int] | None:
    """The body of the first frame `data` holds and where that frame ends, once whole."""
    if len(data) < HEADER.size:
        return None
    (size,) = HEADER.unpack_from(data)
    end = HEADER.size + size
    return (bytes(data[HEADER.size : end]), end) if len(data) >= end else None
