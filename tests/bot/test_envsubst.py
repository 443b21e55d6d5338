from __future__ import annotations

import pytest

from parley.bot import check_bot, load_bot
from parley.bot.envsubst import substitute

from .conftest import WriteBot

BOT = """
name: shop
environments:
  test: {base_url: "${BASE_URL}"}
intents:
  ask_price: {examples: [price]}
nodes:
  check_price:
    intents: [ask_price]
    webhook:
      path: /price
      secret: "${SHOP_SECRET}"
      timeout: "${SHOP_TIMEOUT:-15}"
"""


def test_set_variables_are_substituted(write_bot: WriteBot) -> None:
    env = {"BASE_URL": "http://127.0.0.1:9000", "SHOP_SECRET": "s3cret", "SHOP_TIMEOUT": "5"}
    spec = load_bot(write_bot(BOT), env=env).spec
    webhook = spec.nodes["check_price"].webhook
    assert spec.environments["test"].base_url == "http://127.0.0.1:9000"
    assert webhook is not None and (webhook.secret, webhook.timeout) == ("s3cret", 5.0)


def test_default_is_used_when_the_variable_is_unset_or_empty(write_bot: WriteBot) -> None:
    env = {"BASE_URL": "http://127.0.0.1:9000", "SHOP_SECRET": "s", "SHOP_TIMEOUT": ""}
    webhook = load_bot(write_bot(BOT), env=env).spec.nodes["check_price"].webhook
    assert webhook is not None and webhook.timeout == 15.0


def test_missing_variable_is_a_problem_at_its_key_naming_the_variable(write_bot: WriteBot) -> None:
    problems = check_bot(write_bot(BOT), env={"BASE_URL": "http://127.0.0.1:9000"})
    assert [(p.line, p.key, p.message) for p in problems] == [
        (11, "nodes.check_price.webhook.secret", "environment variable `SHOP_SECRET` is not set")
    ]


def test_missing_variables_do_not_cascade_into_later_problems(write_bot: WriteBot) -> None:
    """An empty base_url or secret would also fail the URL and secret checks: said once."""
    problems = check_bot(write_bot(BOT), env={})
    assert [(p.line, p.key) for p in problems] == [
        (3, "environments.test.base_url"),
        (11, "nodes.check_price.webhook.secret"),
    ]


def test_env_defaults_to_the_process_environment(
    write_bot: WriteBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("SHOP_SECRET", "from-os")
    webhook = load_bot(write_bot(BOT)).spec.nodes["check_price"].webhook
    assert webhook is not None and webhook.secret == "from-os"


def test_double_dollar_escapes_a_literal_reference() -> None:
    data, failures = substitute({"says": ["costs $${PRICE} or ${{ price }} dollars"]}, {})
    assert data == {"says": ["costs ${PRICE} or ${{ price }} dollars"]}
    assert failures == []


def test_malformed_reference_is_a_problem() -> None:
    _, failures = substitute({"webhook": {"url": "http://${HOST/x"}}, {"HOST": "h"})
    assert [path for path, _ in failures] == [("webhook", "url")]
    assert "malformed" in failures[0][1]


def test_references_in_keys_and_non_strings_are_left_alone() -> None:
    data, failures = substitute({"${KEY}": [1, True, None, "${A}-${B:-b}"]}, {"A": "a"})
    assert data == {"${KEY}": [1, True, None, "a-b"]}
    assert failures == []
