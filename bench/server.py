"""The one way the bench's own apps are served: the same uvicorn flags as `parley run`."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp

from parley.tuning import tune_gc

HOST = "127.0.0.1"


def serve(app: ASGIApp, port: int) -> None:
    # Same as parley/cli/run.py: default loop and HTTP implementation, no access log, and
    # the same garbage-collector settings.
    tune_gc()
    uvicorn.run(app, host=HOST, port=port, log_level="info", access_log=False)
