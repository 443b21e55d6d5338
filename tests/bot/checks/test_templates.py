from __future__ import annotations

from .._helpers import where
from ..conftest import Check


def test_bad_jinja_in_every_kind_of_text_is_reported_at_its_key(check: Check) -> None:
    problems = check(
        """
        name: shop
        settings:
          bot_break_message: "Sorry {{ user.name"
          fallback_message: "Pardon? {% if %}"
        entities:
          product_name: {values: [speaker]}
        responses:
          welcome: {en: "Hi {{ user.name }", hi: "Namaste"}
          bye: "Bye {{ }}"
        start: price
        nodes:
          price:
            says: "Prices {{ ) }}"
            entities:
              product_name:
                prompt:
                  - "Which {{ one }?"
                  - {type: quick_replies, content: {title: "Pick {{", buttons: [ok]}}
            webhook: {url: "https://hooks.example.com/price"}
            success: ["Done {{ x | nosuchfilter }}"]
            failure: ok {%
        """
    )
    assert where(problems) == [
        (3, "settings.bot_break_message"),
        (4, "settings.fallback_message"),
        (8, "responses.welcome.en"),
        (9, "responses.bye"),
        (13, "nodes.price.says"),
        (17, "nodes.price.entities.product_name.prompt[0]"),
        (18, "nodes.price.entities.product_name.prompt[1].content.title"),
        (20, "nodes.price.success[0]"),
        (21, "nodes.price.failure"),
    ]
    assert all(p.message.startswith("bad template: ") for p in problems)
    assert problems[-2].message == "bad template: No filter named 'nosuchfilter'."


def test_multi_line_template_error_names_the_template_line(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: hello
        nodes:
          hello:
            says: |
              Hello!
              {% if user.name %}Nice to see you again.
        """
    )
    assert where(problems) == [(5, "nodes.hello.says")]
    assert problems[0].message.endswith("(line 2 of the template)")


def test_next_condition_must_be_a_valid_expression(check: Check) -> None:
    problems = check(
        """
        name: shop
        start: hello
        nodes:
          hello:
            next:
              - {if: "user.name ==", node: bye}
              - {if: "user.name and nlp.intents", node: bye}
          bye: {says: Bye}
        """
    )
    assert where(problems) == [(6, "nodes.hello.next[0].if")]
    assert problems[0].message == "bad condition `user.name ==`: unexpected 'end of template'"


def test_response_reference_naming_an_absent_key_is_reported(check: Check) -> None:
    problems = check(
        """
        name: shop
        responses:
          welcome: {en: Welcome!}
        start: hello
        nodes:
          hello:
            says:
              - {response: welcome}
              - {response: wellcome}
        """
    )
    assert [(p.line, p.key, p.message) for p in problems] == [
        (9, "nodes.hello.says[1].response", "unknown response `wellcome`; did you mean `welcome`?")
    ]


def test_single_response_reference_written_without_a_list_is_named_as_written(
    check: Check,
) -> None:
    problems = check("name: shop\nstart: hello\nnodes:\n  hello:\n    says: {response: hi}\n")
    assert where(problems) == [(5, "nodes.hello.says.response")]


def test_bad_jinja_in_a_webhook_body_or_template_body_is_reported(check: Check) -> None:
    problems = check(
        """
        name: b
        templates: {partner: {body: {city: "{{ memory.city.raw "}}}
        intents: {hi: {examples: [hi]}}
        nodes:
          a:
            intents: [hi]
            webhook: {url: "http://127.0.0.1:9/x", dialect: cai, body: {n: "{% if %}"}}
        """
    )
    assert sorted(where(problems)) == [(2, "templates.partner.body.city"),
                                       (7, "nodes.a.webhook.body.n")]  # fmt: skip
