from __future__ import annotations

from parley.bot.source import Location, SourceMap, format_key
from parley.errors import Problem

SOURCE = SourceMap(
    {
        (): Location("bot.yaml", 1),
        ("nodes",): Location("bot.yaml", 5),
        ("nodes", "greet"): Location("bot.yaml", 6),
        ("nodes", "greet", "says"): Location("bot.yaml", 7),
        ("nodes", "greet", "says", 0): Location("bot.yaml", 8),
    },
    "bot.yaml",
)


def test_key_paths_format_as_dotted_keys_with_indexes() -> None:
    assert format_key(("nodes", "greet", "next", 0, "if")) == "nodes.greet.next[0].if"
    assert format_key(()) == ""


def test_locate_falls_back_to_the_deepest_key_present() -> None:
    assert SOURCE.locate(("nodes", "greet", "webhook", "path")) == Location("bot.yaml", 6)
    assert SOURCE.locate(("intents",)) == Location("bot.yaml", 1)


def test_problem_names_the_key_and_the_line_of_the_deepest_key_present() -> None:
    problem = SOURCE.problem(("nodes", "greet", "says", 0), "bad template")
    assert problem == Problem("bot.yaml", 8, "nodes.greet.says[0]", "bad template")
    assert str(problem) == "bot.yaml:8: nodes.greet.says[0]: bad template"


def test_merged_adds_entries_from_another_file() -> None:
    merged = SOURCE.merged({("nodes", "greet", "code"): Location("code/greet.py", 1)})
    assert merged.locate(("nodes", "greet", "code", "main")) == Location("code/greet.py", 1)
    assert len(merged) == len(SOURCE) + 1
