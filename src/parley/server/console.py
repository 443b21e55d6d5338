"""The web console: its page, the widget script, and the admin API for test chat and the map.

Pages and scripts are static files in `parley/console/`; every `/api/v1/admin` route is
behind the admin guard (`parley.server.admin`). The invocation inspector is `inspector.py`.
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from parley.bot import check_bot
from parley.errors import Problem
from parley.model import Conversation
from parley.runtime import Runtime, dialog_answer
from parley.runtime.runner import LiveBot
from parley.server.admin import Admin
from parley.server.botmap import bot_map, problem_json
from parley.server.dialog import DIALOG_BODY, DialogRequest, inbound_of, read_json

FILES = Path(__file__).resolve().parent.parent / "console"

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Admin])


@pages.get("/console")
@pages.get("/console/")
async def console_page() -> FileResponse:
    return FileResponse(FILES / "console.html", headers={"Cache-Control": "no-cache"})


@pages.get("/widget.js")
async def widget_script() -> FileResponse:
    return FileResponse(
        FILES / "widget.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def problems_on_disk(live: LiveBot) -> list[Problem]:
    """What `parley check` says of the bot's folder now (it may have changed since loading)."""
    return await asyncio.to_thread(check_bot, live.bot.path)


@router.get("/bots", summary="The bots served, with their environments and check problems")
async def bots(request: Request) -> JSONResponse:
    out = []
    for live in _runtime(request).bots.values():
        spec = live.bot.spec
        problems = await problems_on_disk(live)
        out.append(
            {
                "name": spec.name,
                "description": spec.description,
                "language": spec.language,
                "environments": sorted(spec.environments) or ["test"],
                "nodes": len(spec.nodes),
                "problems": [problem_json(p) for p in problems],
            }
        )
    return JSONResponse({"bots": out})


@router.get("/bots/{bot}/map", summary="The bot's nodes and transitions as a graph")
async def map_of(bot: str, request: Request) -> JSONResponse:
    live = _runtime(request).live(bot)
    return JSONResponse(bot_map(live.bot.spec, await problems_on_disk(live)))


@router.post(
    "/bots/{bot}/chat",
    summary="A test-chat turn, with what happened inside it",
    openapi_extra=DIALOG_BODY,
)
async def chat(bot: str, request: Request) -> JSONResponse:
    body = await read_json(request, DialogRequest)
    runtime = _runtime(request)
    runtime.live(bot)
    before = copy.deepcopy(
        _variables(await runtime.store.get_conversation(bot, body.conversation_id))
    )
    output = await runtime.handle(inbound_of(bot, body))
    answer = dialog_answer(output.turn_id, output.result, [])
    answer["inspect"] = {
        "nodes": output.result.nodes,
        "bot_break": output.result.bot_break,
        "handoff": output.result.handoff,
        "variables_before": before,
        "variables_after": _variables(output.result.conversation),
        "invocations": [i.to_json() for i in output.invocations],
        "latency_ms": round(output.latency_ms, 2),
    }
    return JSONResponse(answer)


def _variables(conv: Conversation | None) -> dict[str, Any]:
    if conv is None:
        return {"data": {}, "entities": {}}
    entities = {name: value.to_json() for name, value in conv.entities.items()}
    return {"data": conv.data, "entities": entities}
