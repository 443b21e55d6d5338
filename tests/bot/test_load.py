from __future__ import annotations

from pathlib import Path

import pytest

from parley.bot import Bot, check_bot, load_bot
from parley.bot.source import Location
from parley.errors import BotInvalid

from ._helpers import where
from .conftest import WriteBot

EXAMPLES = Path(__file__).parents[2] / "examples"

PRODUCT_EXAMPLE = """
name: shop
language: en
environments:
  test: {base_url: "http://127.0.0.1:9000"}
  production: {base_url: "https://hooks.example.com/shop"}
settings:
  bot_break_message: "Sorry, something went wrong. Please try again."
  human_assistance: false
entities:
  product_name:
    values:
      speaker: [speaker, alarm clock speaker]
      powerbank: [powerbank, power bank]
intents:
  ask_price:
    examples: ["how much is the speaker", "price of powerbank", "what does a {product_name} cost"]
nodes:
  check_price:
    intents: [ask_price]
    entities:
      product_name: {required: true, prompt: "Which product would you like to price?"}
    webhook:
      path: /price          # joined to the environment's base_url; `url:` is an absolute override
      dialect: haptik       # the default
      secret: test          # "${NAME}" reads an environment variable; enables X-Hub-Signature
      timeout: 30           # seconds
    end: true
"""


def test_product_md_example_loads(write_bot: WriteBot) -> None:
    folder = write_bot(PRODUCT_EXAMPLE)
    bot = load_bot(folder, env={})
    assert isinstance(bot, Bot)
    assert bot.path == folder
    webhook = bot.spec.nodes["check_price"].webhook
    assert webhook is not None and (webhook.path, webhook.secret, webhook.timeout) == (
        "/price",
        "test",
        30.0,
    )
    assert bot.source[("nodes", "check_price", "webhook", "timeout")] == Location(
        str(folder / "bot.yaml"), 26
    )


def test_path_may_be_the_bot_yaml_file_itself(write_bot: WriteBot) -> None:
    folder = write_bot(PRODUCT_EXAMPLE)
    bot = load_bot(folder / "bot.yaml", env={})
    assert bot.path == folder
    assert bot.spec.name == "shop"


def test_every_problem_is_reported_in_line_order(write_bot: WriteBot) -> None:
    folder = write_bot(
        """
        name: shop
        environments:
          test: {base_url: "127.0.0.1:9000"}
        intents:
          ask_price: {examples: ["price of {product}"]}
        nodes:
          check_price:
            intents: [ask_prices]
            says: "{{ price"
            webhook: {url: "https://hooks.example.com/price", secret: "${NO_SUCH_VAR}"}
            next: [{node: nowhere}]
        """
    )
    with pytest.raises(BotInvalid) as raised:
        load_bot(folder, env={})
    problems = raised.value.problems
    assert where(problems) == [
        (3, "environments.test.base_url"),
        (5, "intents.ask_price.examples[0]"),
        (8, "nodes.check_price.intents[0]"),
        (9, "nodes.check_price.says"),
        (10, "nodes.check_price.webhook.secret"),
        (11, "nodes.check_price.next[0].node"),
    ]
    assert str(raised.value) == "\n".join(str(p) for p in problems)
    assert check_bot(folder, env={}) == problems


def test_schema_and_yaml_problems_are_reported_together(write_bot: WriteBot) -> None:
    folder = write_bot(
        """
        name: shop
        nodes:
          greet: {says: hi}
          greet: {says: hello, sayz: hello}
        nodes2: {}
        """
    )
    assert where(check_bot(folder, env={})) == [
        (4, "nodes.greet"),
        (4, "nodes.greet.sayz"),
        (5, "nodes2"),
    ]


def test_missing_folder_is_a_problem(tmp_path: Path) -> None:
    problems = check_bot(tmp_path / "nowhere", env={})
    assert [(p.file, p.line, p.message) for p in problems] == [
        (str(tmp_path / "nowhere" / "bot.yaml"), None, "no such folder")
    ]


def test_folder_without_bot_yaml_is_a_problem(tmp_path: Path) -> None:
    problems = check_bot(tmp_path, env={})
    assert [p.message for p in problems] == [f"no bot.yaml in {tmp_path}"]


def test_problems_name_the_file_as_given(
    write_bot: WriteBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_bot("name: shop\nnodes: {greet: {says: hi}}\n")
    monkeypatch.chdir(folder.parent)
    (problem,) = [str(p) for p in check_bot("bot", env={})]
    assert problem.startswith("bot/bot.yaml:2: nodes.greet: unreachable: no intent, `start`")


@pytest.mark.parametrize("env", [{}, {"SHOP_WEBHOOK_SECRET": "s3cret"}])
def test_example_shop_bot_has_no_problems(env: dict[str, str]) -> None:
    assert check_bot(EXAMPLES / "shop", env=env) == []


def test_example_shop_bot_reads_its_secret_from_the_environment() -> None:
    bot = load_bot(EXAMPLES / "shop", env={"SHOP_WEBHOOK_SECRET": "s3cret"})
    webhook = bot.spec.nodes["check_price"].webhook
    assert webhook is not None and webhook.secret == "s3cret"


def test_yaml_syntax_error_is_reported_with_file_and_line(write_bot: WriteBot) -> None:
    folder = write_bot("name: shop\nnodes:\n  greet: {says: [hi}\n")
    problems = check_bot(folder, env={})
    assert [(p.file, p.line) for p in problems] == [(str(folder / "bot.yaml"), 3)]
    assert problems[0].message.startswith("invalid YAML: ")
