from __future__ import annotations

from ._helpers import where
from .conftest import Check


def test_unknown_key_names_file_line_and_suggests_close_key(check: Check) -> None:
    problems = check(
        """
        name: shop
        intents:
          ask_price: {examples: [price]}
        nodes:
          check_price:
            intents: [ask_price]
            webhook:
              url: https://hooks.example.com/price
              timout: 10
        """
    )
    assert [str(p).replace(p.file, "bot.yaml") for p in problems] == [
        "bot.yaml:9: nodes.check_price.webhook.timout: unknown key `timout`;"
        " did you mean `timeout`?"
    ]


def test_unknown_key_without_a_close_match_has_no_suggestion(check: Check) -> None:
    problems = check("name: shop\ncolour: blue\nnodes: {}\n")
    assert where(problems) == [(2, "colour")]
    assert problems[0].message == "unknown key `colour`"


def test_unknown_key_inside_a_rich_say_suggests_from_that_model(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: hello
        nodes:
          hello:
            says:
              - {type: quick_replies, contents: {title: Pick one}}
        """
    )
    assert [(p.line, p.key, p.message) for p in problems] == [
        (6, "nodes.hello.says[0]", "missing required key `content`"),
        (6, "nodes.hello.says[0].contents", "unknown key `contents`; did you mean `content`?"),
    ]


def test_wrong_type_is_reported_at_its_key(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: price
        nodes:
          price:
            webhook: {url: "https://example.com", timeout: soon}
        """
    )
    assert where(problems) == [(5, "nodes.price.webhook.timeout")]
    assert problems[0].message.startswith("input should be a valid number")


def test_missing_required_key_is_reported_at_its_parent(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: price
        nodes:
          price:
            next:
              - if: "true"
        """
    )
    assert [(p.line, p.key, p.message) for p in problems] == [
        (6, "nodes.price.next[0]", "missing required key `node`")
    ]


def test_missing_top_level_key_is_reported_at_the_document(check: Check) -> None:
    problems = check("# a shop\nname: shop\n")
    assert [(p.line, p.key, p.message) for p in problems] == [
        (2, "", "missing required key `nodes` (or a bot-level `logic:`)")
    ]


def test_say_of_no_accepted_shape_lists_the_shapes(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: hello
        nodes:
          hello:
            says: [hi, 42]
        """
    )
    assert where(problems) == [(5, "nodes.hello.says[1]")]
    assert problems[0].message == (
        "expected text, `{response: key}` or `{type: ..., content: ...}`"
    )


def test_bad_response_reference_value_reports_the_closest_shape(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: hello
        nodes:
          hello:
            says:
              - response: [welcome]
        """
    )
    assert where(problems) == [(6, "nodes.hello.says[0].response")]
    assert problems[0].message == "input should be a valid string"


def test_unknown_environment_name_is_an_invalid_key(check: Check) -> None:
    problems = check(
        """
        name: shop
        environments:
          staging: {base_url: "http://127.0.0.1:9000"}
        nodes: {}
        """
    )
    assert where(problems) == [(3, "environments.staging")]
    assert problems[0].message == "invalid key `staging`: Input should be 'test' or 'production'"


def test_model_rule_is_reported_at_its_model(check: Check) -> None:
    problems = check(
        """
        name: shop
        environments:
          test: {base_url: "http://127.0.0.1:9000"}
        start: price
        nodes:
          price:
            webhook: {path: /price, url: "https://example.com/price"}
        """
    )
    assert [(p.line, p.key, p.message) for p in problems] == [
        (7, "nodes.price.webhook", "a webhook needs exactly one of `path` or `url`")
    ]


def test_a_document_that_is_not_a_mapping_is_a_problem(check: Check) -> None:
    problems = check("- name: shop\n")
    assert [(p.line, p.message) for p in problems] == [
        (1, "a bot file must be a mapping of keys to values")
    ]
