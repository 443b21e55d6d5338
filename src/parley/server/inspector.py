"""The console's invocation inspector: the log with filters, one call, replay, live calls."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from parley.errors import BadRequest, NotFound
from parley.model import Invocation
from parley.runtime import Runtime
from parley.runtime.events import INVOCATIONS_TOPIC
from parley.server.admin import Admin
from parley.server.streams import sse
from parley.webhooks import resolve_url
from parley.webhooks.redact import MASK
from parley.webhooks.replay import replay_headers, send

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Admin])

PAGE = 5000
"""Entries read per page while filtering by node, kind, status or time."""
MAX_SCANNED = 100_000
"""How far back such filters look, newest first."""
"""Filters other than bot and conversation look at this many newest entries."""

Status = Annotated[str | None, Query(pattern=r"^(ok|failed|[1-5][0-9][0-9])$")]


class ReplayIn(BaseModel):
    model_config = ConfigDict(strict=True)
    url: str | None = Field(
        None,
        max_length=2048,
        pattern=r"^https?://",
        description="Send here instead of the node's current webhook URL.",
    )


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/invocations", summary="The invocation log, newest first, filtered")
async def invocations(
    request: Request,
    bot: str | None = None,
    conversation_id: str | None = None,
    node: str | None = None,
    kind: Literal["webhook", "code", "http", "event", "logic"] | None = None,
    status: Status = None,
    since: Annotated[float | None, Query(ge=0)] = None,
    until: Annotated[float | None, Query(ge=0)] = None,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONResponse:
    store = _runtime(request).store

    def keep(row: Invocation) -> bool:
        return (
            (node is None or row.node == node)
            and (kind is None or row.kind == kind)
            and (status is None or _status_matches(row, status))
            and (since is None or row.created_at >= since)
            and (until is None or row.created_at <= until)
        )

    found: list[Invocation] = []
    before, scanned = None, 0
    while len(found) < limit and scanned < MAX_SCANNED:
        page = await store.invocations(
            bot=bot, conversation_id=conversation_id, after_id=after_id, before_id=before,
            limit=PAGE, newest=True,
        )  # fmt: skip
        found += [row for row in reversed(page) if keep(row)]
        if len(page) < PAGE or (since is not None and page[0].created_at < since):
            break  # the log's start, or older than anything asked for
        before, scanned = page[0].id, scanned + len(page)
    return JSONResponse({"invocations": [row.to_json() for row in found[:limit]]})


def _status_matches(row: Invocation, status: str) -> bool:
    if status == "ok":
        return row.error is None
    if status == "failed":
        return row.error is not None
    return row.status == int(status)


async def _one(runtime: Runtime, invocation_id: int) -> Invocation:
    rows = await runtime.store.invocations(after_id=invocation_id - 1, limit=1)
    if not rows or rows[0].id != invocation_id:
        raise NotFound(f"no invocation {invocation_id}")
    return rows[0]


@router.get("/invocations/{invocation_id}", summary="One invocation-log entry")
async def invocation(invocation_id: Annotated[int, Path(ge=1)], request: Request) -> JSONResponse:
    return JSONResponse({"invocation": (await _one(_runtime(request), invocation_id)).to_json()})


@router.post(
    "/invocations/{invocation_id}/replay",
    summary="Send a logged call's request again; the recorded and the new answer",
)
async def replay(
    invocation_id: Annotated[int, Path(ge=1)], request: Request, body: ReplayIn | None = None
) -> JSONResponse:
    runtime = _runtime(request)
    recorded = await _one(runtime, invocation_id)
    if recorded.request_body.endswith(" bytes]") and "… [cut at " in recorded.request_body:
        raise BadRequest("the logged request body was cut; it cannot be sent again")
    spec, current = _current_target(runtime, recorded)
    target = body.url if body is not None and body.url else current
    if target is None:
        raise BadRequest("the logged URL is masked and the node has no webhook: give `url`")
    payload = recorded.request_body.encode("utf-8")
    answer = await send(
        runtime.callers.client,
        recorded.method,
        target,
        replay_headers(recorded.request_headers, spec, payload),
        payload,
        environment=recorded.environment,
        timeout=spec.timeout if spec is not None else 30.0,
    )
    return JSONResponse(
        {
            "recorded": {
                "url": recorded.url,
                "status": recorded.status,
                "body": recorded.response_body,
                "latency_ms": round(recorded.latency_ms, 2),
                "error": recorded.error,
            },
            "replayed": answer.to_json(),
        }
    )


def _current_target(runtime: Runtime, recorded: Invocation) -> tuple[Any, str | None]:
    """The node's webhook spec as the bot has it now (None for other kinds) and its URL in
    the recorded environment; other kinds go to the logged URL unless it was masked."""
    spec = runtime.live(recorded.bot).bot.spec
    node = spec.nodes.get(recorded.node)
    if recorded.kind == "webhook" and node is not None and node.webhook is not None:
        hook = node.webhook
        if hook.template is not None and hook.template in spec.templates:
            hook = hook.with_template(spec.templates[hook.template])
        return hook, resolve_url(hook, spec.environments, recorded.environment)
    return None, (None if MASK in recorded.url or not recorded.url else recorded.url)


@router.get("/events", summary="Every new invocation, live, as server-sent events")
async def events(request: Request) -> StreamingResponse:
    return await sse(request, _runtime(request), INVOCATIONS_TOPIC)
