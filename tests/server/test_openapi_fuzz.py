"""schemathesis against the served OpenAPI document of a real app with a bot, accounts and a
conversation: whatever it sends, no answer is a 5xx.

Bounded and reproducible: 25 derandomized examples per operation. The two event streams are
left out (they answer until the client leaves). Path `bot` is the served bot and the agent and
partner APIs get valid credentials, so examples reach past the 404 and 401 checks (the CLI
without them covers those)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case

from parley.config import Settings
from parley.server.app import create_app
from tests.harness import serve, write_bot
from tests.integration_api.accounts import BOT, Accounts, create_accounts
from tests.webhooks.seed_server import running


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Accounts]]:
    folder = tmp_path_factory.mktemp("fuzz")
    database = f"sqlite:///{folder}/parley.db"
    accounts = asyncio.run(create_accounts(database))
    with running() as webhook:
        bot = write_bot(folder / "shop", BOT.format(base=webhook))
        with serve([bot], Settings(database_url=database)) as base:
            for text in ("hi", "server error please"):  # a conversation to read
                body = {"conversation_id": "c1", "message": {"content": text}}
                httpx.post(f"{base}/api/v1/bots/shop/dialog", json=body).raise_for_status()
            yield base, accounts


# The document the app serves at /openapi.json (it does not depend on the bots); built here
# because schemathesis parametrizes tests when pytest collects them, before any server runs.
DOCUMENT = create_app([], Settings(database_url="memory://")).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_served_document_is_the_one_fuzzed(served: tuple[str, Accounts]) -> None:
    assert httpx.get(f"{served[0]}/openapi.json").json() == DOCUMENT


@schema.exclude(path_regex=r".*/events$").parametrize()
@settings(
    max_examples=25, derandomize=True, deadline=None, database=None,
    suppress_health_check=list(HealthCheck),
)  # fmt: skip
def test_no_request_gets_a_server_error(case: Case, served: tuple[str, Accounts]) -> None:
    base, accounts = served
    if case.path_parameters and "bot" in case.path_parameters:
        case.path_parameters["bot"] = "shop"
    headers = dict(case.headers or {})
    if case.path.startswith("/api/v1/agent/"):
        headers["authorization"] = f"Bearer {accounts.ada}"
    elif case.path.startswith("/integration/"):
        headers |= {"client-id": accounts.client_id, "authorization": f"Bearer {accounts.token}"}
    case.headers = headers
    case.call_and_validate(base_url=base, timeout=10, excluded_checks=NOT_CHECKED)


NOT_CHECKED = [
    # Business rules the schema cannot state: blank text, a bot's own text limit, a
    # conversation owned by another user are 400s for schema-valid bodies.
    schemathesis.checks.positive_data_acceptance,
    # One path with GET and POST routes: Starlette's 405 lists the methods of one of them.
    schemathesis.checks.allow_header_conformance,
]
