from __future__ import annotations

from .._helpers import where
from ..conftest import Check


def test_node_entity_neither_declared_nor_built_in_is_reported(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: order
        entities:
          product_name: {values: [speaker, powerbank]}
        nodes:
          order:
            entities:
              product_name: {required: true}
              quantity: {required: true}
              email: {required: true}
        """
    )
    assert where(problems) == [(9, "nodes.order.entities.quantity")]
    assert problems[0].message == (
        "unknown entity `quantity`: declare it under `entities:`"
        " or use a type (email, phone, number, date, time, url)"
    )


def test_placeholder_naming_an_unknown_entity_is_reported(check: Check) -> None:
    problems = check(
        """
        name: shop
        entities:
          product_name: {values: [speaker]}
        intents:
          ask_price:
            examples:
              - what does a {product_name} cost
              - what does a {produt_name} cost
              - price for {number} items
        nodes:
          price: {intents: [ask_price]}
        """
    )
    assert where(problems) == [(8, "intents.ask_price.examples[1]")]
    assert problems[0].message == "unknown entity `produt_name`; did you mean `product_name`?"


def test_regex_entity_that_does_not_compile_is_reported(check: Check) -> None:
    problems = check(
        """
        name: shop
        entities:
          order_id: {pattern: "ORD-[0-9"}
          sku: {pattern: "SKU-[0-9]{4}"}
        nodes: {}
        """
    )
    assert where(problems) == [(3, "entities.order_id.pattern")]
    assert problems[0].message.startswith("invalid regular expression: unterminated character set")
