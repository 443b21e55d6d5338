from __future__ import annotations

from .._helpers import where
from ..conftest import Check


def test_node_intent_naming_an_undefined_intent_is_reported(check: Check) -> None:
    problems = check(
        """
        name: shop
        intents:
          ask_price: {examples: [price]}
        nodes:
          check_price:
            intents: [ask_price, ask_prise]
        """
    )
    assert [(p.line, p.key, p.message) for p in problems] == [
        (6, "nodes.check_price.intents[1]", "unknown intent `ask_prise`; did you mean `ask_price`?")
    ]


def test_intent_written_as_a_scalar_is_reported_at_its_key(check: Check) -> None:
    problems = check("name: shop\nnodes:\n  greet:\n    intents: hello\n")
    assert where(problems) == [(4, "nodes.greet.intents")]


def test_next_naming_an_unknown_node_is_reported(check: Check) -> None:
    problems = check(
        """
        name: shop
        intents:
          thanks: {examples: [thanks]}
        nodes:
          thanks:
            intents: [thanks]
            next:
              - {if: "user.name", node: sign_of}
          sign_off:
            says: Bye!
        """
    )
    assert [(p.line, p.key, p.message) for p in problems] == [
        (8, "nodes.thanks.next[0].node", "unknown node `sign_of`; did you mean `sign_off`?"),
        (
            9,
            "nodes.sign_off",
            "unreachable: no intent, `start`, `next` or HTTP branch leads to this node",
        ),
    ]


def test_start_naming_an_unknown_node_is_reported(check: Check) -> None:
    problems = check("name: shop\nstart: welcome\nnodes:\n  greet: {says: hi}\n")
    assert where(problems) == [(2, "start"), (4, "nodes.greet")]


def test_unreachable_node_is_reported(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: welcome
        intents:
          thanks: {examples: [thanks]}
        nodes:
          welcome:
            says: Hello!
            next: [{node: menu}]
          menu:
            says: What would you like?
          thanks:
            intents: [thanks]
            says: You're welcome!
          orphan:
            says: Nobody gets here.
        """
    )
    assert where(problems) == [(14, "nodes.orphan")]
    assert (
        problems[0].message
        == "unreachable: no intent, `start`, `next` or HTTP branch leads to this node"
    )


def test_cycles_through_next_are_reachable_from_an_entry_point(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: a
        nodes:
          a: {next: [{node: b}]}
          b: {next: [{node: a}]}
          c: {next: [{node: d}]}
          d: {next: [{node: c}]}
        """
    )
    assert where(problems) == [(6, "nodes.c"), (7, "nodes.d")]
