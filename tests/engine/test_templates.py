from __future__ import annotations

import random
import string
from typing import Any

import pytest

from parley.engine import TemplateFailed, Templates, variables
from parley.model import Conversation, EntityValue, Parse, User


def scope() -> dict[str, Any]:
    conv = Conversation("c", "b", "u", data={"order": "A1", "count": 3})
    conv.entities["person"] = EntityValue("Ada Lovelace", "ada lovelace")
    user = User("u", name="ada", profile={"city": "Pune"}, data={"tier": "gold"})
    return variables(conv, user, Parse("hi", "en"))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("plain text", "plain text"),
        ("{{ order }}", "A1"),
        ("{{ person }}", "Ada Lovelace"),
        ("{{ memory.person.raw }}", "ada lovelace"),
        ("{{ memory.person.detection }}", "message"),
        ("{{ user.city }} {{ user.tier }} {{ user.name }}", "Pune gold ada"),
        ("{{ conversation.no }}", "1"),
        ("{{ missing }}", ""),
        ("{{ memory.missing.raw }}", ""),
        ("{{ count + 1 }}", "4"),
        ("{% if count > 2 %}many{% else %}few{% endif %}", "many"),
        ("{{ nlp.text }}", "hi"),
        ("{{ order | lower }}", "a1"),
    ],
)
def test_template_renders_variables(source: str, expected: str) -> None:
    assert Templates().render(source, scope()) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("count > 2", True),
        ("count > 5", False),
        ("missing", False),
        ("not missing", True),
        ("order == 'A1' and user.tier == 'gold'", True),
        ("memory.person.value.startswith('Ada')", True),
        ("'tier' in user", True),
    ],
)
def test_condition_evaluates_over_variables(expression: str, expected: bool) -> None:
    assert Templates().test(expression, scope()) is expected


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ data.update({'x': 1}) }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ 1 / 0 }}",
    ],
)
def test_sandbox_refuses_unsafe_or_failing_templates(source: str) -> None:
    with pytest.raises(TemplateFailed):
        Templates().render(source, scope())


def test_random_text_without_braces_renders_unchanged() -> None:
    rng = random.Random(7)
    alphabet = string.printable + "éü漢字🙂"
    templates = Templates()
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))).replace("{", "")
        assert templates.render(text, {}) == text


_NAMES = [
    "order", "person", "memory.person.raw", "memory.person.detection", "user.city",
    "user.tier", "user.name", "user.profile", "conversation.no", "missing", "missing.deeper",
    "memory.missing.raw", "nlp.text", "nlp.intents", "count", "person.value", "order.upper",
    "user.items", "range", "namespace", "user.city.missing", "count.real",
]  # fmt: skip


@pytest.mark.parametrize("name", _NAMES)
def test_a_dotted_name_is_what_jinja_makes_of_it(name: str) -> None:
    """Dotted names skip Jinja's context; the answers must stay Jinja's own."""
    templates, values = Templates(), scope()
    jinja = templates._env
    assert templates.render(f"{{{{ {name} }}}}", values) == jinja.from_string(
        f"{{{{ {name} }}}}"
    ).render(values)
    expected = jinja.compile_expression(name, undefined_to_none=True)(**values)
    assert templates.evaluate(name, values) == expected
    assert templates.evaluate(f" {name} ", values) == expected


@pytest.mark.parametrize("name", ["user.update", "user.pop", "nlp.intents.append"])
def test_the_sandbox_still_guards_dotted_names(name: str) -> None:
    """Mutating methods are refused by the sandbox's own `getattr`, fast path or not."""
    with pytest.raises(TemplateFailed, match="not allowed"):
        Templates().render(f"{{{{ {name} }}}}", scope())
    with pytest.raises(TemplateFailed, match="not allowed"):
        Templates().evaluate(name, scope())
    with pytest.raises(TemplateFailed):
        Templates().render(f"{{{{ {name} }}}}", scope())
    with pytest.raises(TemplateFailed):
        Templates().evaluate(name, scope())
