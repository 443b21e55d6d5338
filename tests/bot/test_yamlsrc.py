from __future__ import annotations

import textwrap
from typing import Any

from parley.bot.source import KeyPath, Location
from parley.bot.yamlsrc import MAX_VALUES, parse_yaml
from parley.errors import Problem

from ._helpers import where


def parse(text: str) -> tuple[Any, dict[KeyPath, Location], list[Problem]]:
    data, source, problems = parse_yaml(textwrap.dedent(text).lstrip("\n"), "bot.yaml")
    return data, dict(source), list(problems)


def test_every_mapping_key_and_list_item_keeps_its_line() -> None:
    _, lines, problems = parse(
        """
        name: shop
        nodes:
          check_price:
            webhook:
              path: /price
        intents:
          greet:
            examples:
              - hi
              - hello
        """
    )
    assert problems == []
    assert lines[("name",)] == Location("bot.yaml", 1)
    assert lines[("nodes", "check_price", "webhook", "path")].line == 5
    assert lines[("intents", "greet", "examples", 1)].line == 10
    assert lines[()].line == 1


def test_flow_collections_keep_the_line_of_each_item() -> None:
    _, lines, _ = parse(
        """
        examples: [a,
          b]
        """
    )
    assert (lines[("examples", 0)].line, lines[("examples", 1)].line) == (1, 2)


def test_syntax_error_is_one_problem_at_its_line() -> None:
    data, _, problems = parse_yaml("name: shop\nnodes:\n  a: b: c\n", "bot.yaml")
    assert data is None
    assert where(problems) == [(3, "")]
    assert "invalid YAML: mapping values are not allowed here" in problems[0].message


def test_duplicate_key_is_reported_at_its_second_occurrence() -> None:
    _, _, problems = parse(
        """
        nodes:
          greet:
            says: hi
          greet:
            says: hello
        """
    )
    assert where(problems) == [(4, "nodes.greet")]
    assert problems[0].message == "duplicate key `greet` (first on line 2)"


def test_duplicate_key_in_a_flow_mapping_is_reported() -> None:
    _, _, problems = parse("webhook: {path: /a, path: /b}\n")
    assert where(problems) == [(1, "webhook.path")]


def test_merge_keys_may_be_overridden_without_a_duplicate_error() -> None:
    data, lines, problems = parse(
        """
        base: &base {timeout: 10, dialect: haptik}
        hook:
          <<: *base
          timeout: 20
        """
    )
    assert problems == []
    assert data == {
        "base": {"timeout": 10, "dialect": "haptik"},
        "hook": {"timeout": 20, "dialect": "haptik"},
    }
    assert lines[("hook", "timeout")].line == 4


def test_scalars_follow_yaml_1_2_so_yes_times_and_dates_stay_text() -> None:
    data, _, _ = parse("[yes, no, on, off, true, 10:30, 2024-01-01, '1', 1, 1.5, 012, ~]\n")
    assert data == ["yes", "no", "on", "off", True, "10:30", "2024-01-01", "1", 1, 1.5, "012", None]


def test_keys_are_text_as_written() -> None:
    data, _, _ = parse("values: {1: [one], yes: [y], null: [none]}\n")
    assert data == {"values": {"1": ["one"], "yes": ["y"], "null": ["none"]}}


def test_alias_to_its_own_ancestor_is_a_problem_not_a_crash() -> None:
    _, _, problems = parse("loop: &a [*a]\n")
    assert where(problems) == [(1, "loop[0]")]


def test_unknown_tag_is_a_problem_at_its_key() -> None:
    _, _, problems = parse("name: shop\nsecret: !vault abc\n")
    assert where(problems) == [(2, "secret")]


def test_empty_file_is_a_problem() -> None:
    data, _, problems = parse("# nothing here\n")
    assert data is None
    assert [p.message for p in problems] == ["the file is empty"]


def test_alias_bomb_stops_at_the_value_limit() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    _, _, problems = parse_yaml("\n".join(lines), "bot.yaml")
    assert [p.message for p in problems] == [f"too many values (over {MAX_VALUES}); check aliases"]
