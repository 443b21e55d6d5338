"""Code nodes and logic scripts end to end, `parley check` of code, `parley chat`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.bot import check_bot, load_bot
from parley.config import Settings
from parley.model import Call, Conversation, Detection, EntityValue, Environment, User
from parley.runtime.code import WEAK_IN_PRODUCTION, CodeCaller
from parley.sandbox import Isolation, SandboxPool
from parley.sdk.haptik import haptik_main_app
from tests.harness import serve, write_bot

EXAMPLES = Path(__file__).parents[2] / "examples" / "code"


async def say(api: httpx.AsyncClient, bot: str, text: str, conversation: str = "c1") -> Any:
    body = {
        "conversation_id": conversation,
        "message": {"type": "text", "content": text},
        "user": {"id": "u1"},
    }
    response = await api.post(f"/api/v1/bots/{bot}/dialog", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_code_node_answers_like_a_haptik_webhook_through_the_dialog_api(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")
    with serve([EXAMPLES / "pricing"], settings) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            first = await say(api, "code-pricing", "how much is the speaker")
            second = await say(api, "code-pricing", "price of power bank")
            log = (await api.get("/api/v1/invocations")).json()["invocations"]
    button, anything_else = first["messages"]
    assert button["type"] == "buttons"
    assert "The speaker costs 1999 INR." in str(button["content"])
    assert anything_else == {"type": "text", "content": "Anything else?"}
    assert second["conversation"]["data"] == {"quotes": 2}
    assert {entry["kind"] for entry in log} == {"code"}
    assert '"node": "price"' in log[0]["request_body"] and log[0]["error"] is None


async def test_a_logic_script_ported_from_initai_node_runs_the_conversation(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")
    with serve([EXAMPLES / "onboarding"], settings) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            hello = await say(api, "code-onboarding", "hello")
            again = await say(api, "code-onboarding", "hi")
    assert [m["content"] for m in hello["messages"]] == [
        "Welcome to the onboarding bot!",
        "The docs are at https://docs.example.org.",
        "Say bye when you are done.",
    ]
    assert hello["conversation"]["data"]["helloSent"] is True
    assert [m["content"] for m in again["messages"]] == ["Until next time!"]


def test_parley_chat_runs_a_logic_script_bot(tmp_path: Path) -> None:
    chat = subprocess.run(
        [str(Path(sys.executable).parent / "parley"), "chat", str(EXAMPLES / "onboarding")],
        input="hello\nbye\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path}/c.db"},
    )
    assert chat.returncode == 0, chat.stderr
    assert "Welcome to the onboarding bot!" in chat.stdout
    assert "Until next time!" in chat.stdout


def _code_bot(tmp_path: Path, code: str, name: str = "checked") -> Path:
    folder = write_bot(
        tmp_path / name,
        f"""\
        name: {name}
        intents: {{go: {{examples: [go]}}}}
        nodes:
          go: {{intents: go, code: {{file: main.py}}}}
        """,
    )
    (folder / "main.py").write_text(code, encoding="utf-8")
    return folder


def test_check_reports_a_syntax_error_with_file_and_line(tmp_path: Path) -> None:
    folder = _code_bot(tmp_path, "import json\n\ndef main(event, context)\n    return 1\n")
    (problem,) = check_bot(folder)
    assert problem.file == str((folder / "main.py").resolve()) and problem.line == 3
    assert "SyntaxError" in problem.message


def test_check_names_a_module_code_may_not_import(tmp_path: Path) -> None:
    folder = _code_bot(tmp_path, "import json, pytz\nfrom numpy import array\nmain = array\n")
    (problem,) = check_bot(folder)
    assert problem.line == 2 and "`numpy`" in problem.message


def test_check_reports_inline_code_errors_at_their_bot_yaml_line(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path / "inline",
        """\
        name: inline
        intents: {go: {examples: [go]}}
        nodes:
          go:
            intents: go
            code: |
              import subprocess_helper_not_there
              def main(event, context):
                  pass
        """,
    )
    (problem,) = check_bot(folder)
    assert problem.file.endswith("bot.yaml") and problem.line == 7
    assert "subprocess_helper_not_there" in problem.message


def test_check_reports_code_without_its_entry_function(tmp_path: Path) -> None:
    node = _code_bot(tmp_path, "def handler(event, context):\n    return 1\n")
    logic = write_bot(tmp_path / "logic", "name: logic\nlogic: {code: logic.py}\n")
    (logic / "logic.py").write_text("def main(event, context):\n    pass\n")
    (missing_main,) = check_bot(node)
    (missing_handle,) = check_bot(logic)
    assert "defines no `main(event, context)`" in missing_main.message
    assert "defines no `handle(client)`" in missing_handle.message
    assert missing_handle.file.endswith("logic.py")


def test_logic_needs_exactly_one_of_webhook_or_code(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path / "both",
        """\
        name: both
        logic: {code: logic.py, webhook: {url: "http://127.0.0.1:9/logic"}}
        """,
    )
    (problem,) = check_bot(folder)
    assert "exactly one of `webhook` or `code`" in problem.message


@pytest.mark.parametrize("environment", [Environment.PRODUCTION, Environment.TEST])
async def test_production_code_is_refused_at_the_weakest_isolation_unless_allowed(
    tmp_path: Path, environment: Environment
) -> None:
    bot = load_bot(EXAMPLES / "pricing").spec
    node = bot.nodes["price"]
    conversation = Conversation(id="c", bot=bot.name, user_id="u", environment=environment)
    call = Call(
        kind="code",
        node="price",
        spec=node.code,
        entities={"product": EntityValue("speaker", "speaker", Detection.MESSAGE)},
        conversation=conversation,
        user=User(id="u"),
    )
    pool = SandboxPool("processes")
    try:
        assert await pool.start() is Isolation.PROCESSES
        outcome, invocation = await CodeCaller(pool)(bot, call, "t1")
        allowed, _ = await CodeCaller(pool, allow_weak=True)(bot, call, "t2")
    finally:
        await pool.aclose()
    if environment is Environment.PRODUCTION:
        assert outcome.failure == invocation.error == WEAK_IN_PRODUCTION
    else:
        assert outcome.failure is None
    assert allowed.failure is None and allowed.data == {"quotes": 1}


async def test_the_same_main_serves_as_a_webhook_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    namespace: dict[str, Any] = {}
    exec((EXAMPLES / "pricing" / "code" / "price.py").read_text(), namespace)
    monkeypatch.setenv("CURRENCY", "INR")
    app = haptik_main_app(namespace["main"])
    request = {
        "node": "price",
        "user": {"user_id": "u"},
        "conversation_data": {},
        "entities": {"product": [{"entity_value": "speaker"}]},
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://code") as client:
        answer = await client.post("/", json=request)
    assert answer.status_code == 200
    assert answer.json()["conversation_data"] == {"quotes": 1}


async def test_failing_code_hands_off_to_an_agent_with_human_assistance(tmp_path: Path) -> None:
    folder = write_bot(
        tmp_path / "handoff",
        """\
        name: handoff
        settings: {human_assistance: true, handoff_message: "An agent will help."}
        intents: {go: {examples: [go]}}
        nodes:
          go:
            intents: go
            code: |
              def main(event, context):
                  return 1 / 0
        """,
    )
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")
    with serve([folder], settings) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            answer = await say(api, "handoff", "go")
            (logged,) = (await api.get("/api/v1/invocations")).json()["invocations"]
    assert answer["messages"] == [{"type": "text", "content": "An agent will help."}]
    assert answer["conversation"]["state"] == "pending"
    assert "ZeroDivisionError: division by zero" in logged["error"]
    assert "line 2, in main" in logged["error"]


LOGIC = """\
def handle(client):
    part = client.getMessagePart()
    name = client.getFirstEntityWithRole(part, "name")

    def ask_name():
        client.addResponseWithReplies(
            "ask/name", None, [client.makeReplyButton("I'm Bo", None, "named", {"n": "Bo"})]
        )
        client.expect("named", ["provide/name"])
        client.done()

    def greet():
        data = client.getPostbackData()
        who = (data or {}).get("n") or (name.value if name else "?")
        client.updateUser(part.sender.id, "first_name", who)
        client.updateConversationState("greeted", who)
        client.addTextResponse("Hi " + who)
        client.done()

    def forgetful():
        client.addTextResponse("this is never sent")

    client.runFlow({
        "classifications": {"forget": "forgetful"},
        "streams": {
            "main": "start",
            "start": [client.createStep(satisfied=lambda: False, prompt=ask_name)],
            "named": [client.createStep(satisfied=lambda: False, prompt=greet)],
            "forgetful": [client.createStep(satisfied=lambda: False, prompt=forgetful)],
        },
    })
"""


async def test_a_logic_script_routes_by_expectation_and_postback_and_updates_the_user(
    tmp_path: Path,
) -> None:
    folder = write_bot(
        tmp_path / "flows",
        """\
        name: flows
        logic: {code: logic.py}
        entities: {name: {values: [Al, Bo]}}
        intents:
          provide/name: {examples: ["I'm {name}", "call me {name}"]}
          forget: {examples: [forget it]}
        responses:
          ask/name: "What is your name?"
        """,
    )
    (folder / "logic.py").write_text(LOGIC, encoding="utf-8")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")
    with serve([folder], settings) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            asked = await say(api, "flows", "hello", conversation="a")
            named = await say(api, "flows", "call me Al", conversation="a")
            await say(api, "flows", "hello", conversation="b")
            button = asked["messages"][1]["content"]["buttons"][0]
            clicked = await say(api, "flows", button["value"], conversation="b")
            forgot = await say(api, "flows", "forget it", conversation="c")
            log = (await api.get("/api/v1/invocations?conversation_id=c")).json()
    question, replies = asked["messages"]
    assert question == {"type": "text", "content": "What is your name?"}
    assert replies["type"] == "quick_replies" and button["title"] == "I'm Bo"
    assert named["messages"] == [{"type": "text", "content": "Hi Al"}]  # the expectation
    assert named["conversation"]["data"]["greeted"] == "Al"
    assert clicked["messages"] == [{"type": "text", "content": "Hi Bo"}]  # the postback
    assert forgot["messages"][0]["content"].startswith("Sorry, something went wrong.")
    assert "never called client.done()" in log["invocations"][0]["error"]


@pytest.mark.parametrize(
    ("returned", "reason"),
    [
        ("{'statusCode': 500, 'body': 'boom'}", "webhook answered HTTP 500"),
        ("'just text'", "main() must return {'statusCode', 'body', ...}, not a str"),
        ("{'statusCode': 200, 'body': '{\"response\": []}'}", "webhook answer has no `status`"),
        ("{'statusCode': 200, 'body': object()}", "not JSON"),
    ],
)
async def test_a_bad_answer_from_main_is_a_bot_break_with_the_reason_logged(
    tmp_path: Path, returned: str, reason: str
) -> None:
    folder = write_bot(
        tmp_path / "bad",
        f"""\
        name: bad
        intents: {{go: {{examples: [go]}}}}
        nodes:
          go:
            intents: go
            code: |
              def main(event, context):
                  return {returned}
        """,
    )
    settings = Settings(database_url=f"sqlite:///{tmp_path}/parley.db")
    with serve([folder], settings) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            answer = await say(api, "bad", "go")
            (logged,) = (await api.get("/api/v1/invocations")).json()["invocations"]
    assert answer["messages"][0]["content"].startswith("Sorry, something went wrong.")
    assert reason in logged["error"]
