"""`parley deploy`, `parley releases` and `parley rollback` on a SQLite file, via CliRunner."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from parley.cli import app
from parley.storage import create_store
from tests.harness import write_bot

BOT = """\
name: {name}
intents: {{greet: {{examples: [hi]}}}}
nodes: {{greet: {{intents: [greet], says: "{says}"}}}}
"""


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/data/parley.db"


def bot(tmp_path: Path, says: str = "Hello", name: str = "shop") -> Path:
    folder = write_bot(tmp_path / name, BOT.format(name=name, says=says))
    (folder / "code").mkdir(exist_ok=True)
    (folder / "code" / "price.py").write_text("def main(event, context):\n    return {}\n")
    return folder


def parley(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def ok(*args: str | Path) -> str:
    result = parley(*args)
    assert result.exit_code == 0, result.output
    return result.output


def test_deploy_stores_the_whole_folder_as_release_1(tmp_path: Path, database: str) -> None:
    folder = bot(tmp_path)

    out = ok("deploy", folder, "--database", database, "--note", "first", "--author", "ana")

    assert "2 files checked" in out and "deployed bot 'shop' release 1" in out

    async def files() -> object:
        async with create_store(database) as store:
            return await store.release_files("shop", 1)

    assert asyncio.run(files()) == {
        "bot.yaml": BOT.format(name="shop", says="Hello"),
        "code/price.py": "def main(event, context):\n    return {}\n",
    }


def test_releases_lists_number_time_digest_author_note_and_the_current_one(
    tmp_path: Path, database: str
) -> None:
    ok("deploy", bot(tmp_path), "--database", database, "--note", "first", "--author", "ana")
    ok("deploy", bot(tmp_path, "Hi!"), "--database", database, "--author", "bo")

    lines = ok("releases", "--database", database).splitlines()

    when = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    assert lines[0] == "shop"
    assert re.fullmatch(rf"      1  {when}  [0-9a-f]{{12}}  ana  first", lines[1]), lines[1]
    assert re.fullmatch(rf"\*     2  {when}  [0-9a-f]{{12}}  bo", lines[2]), lines[2]
    assert len(lines) == 3


def test_deploying_unchanged_files_keeps_the_current_release(tmp_path: Path, database: str) -> None:
    folder = bot(tmp_path)
    ok("deploy", folder, "--database", database)

    out = ok("deploy", folder, "--database", database)

    assert "release 1 is current and has these files" in out and "nothing to deploy" in out
    assert len(ok("releases", "--database", database).splitlines()) == 2


def test_an_invalid_bot_is_refused_with_every_problem_and_nothing_is_stored(
    tmp_path: Path, database: str
) -> None:
    folder = bot(tmp_path, "Hello {{ user.name ")
    (folder / "code" / "price.py").write_text("def main(event, context)\n    return {}\n")
    (folder / "code" / "tax.py").write_text("x = (1,\n")

    result = parley("deploy", folder, "--database", database)

    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(errors) == 3, result.output
    assert errors[0].startswith(f"error {folder}/bot.yaml:3: nodes.greet.says")
    assert errors[1].startswith(f"error {folder}/code/price.py:1: Python syntax error")
    assert errors[2].startswith(f"error {folder}/code/tax.py:1: Python syntax error")
    assert "no releases yet" in ok("releases", "--database", database)


def test_rollback_switches_the_current_release_and_keeps_them_all(
    tmp_path: Path, database: str
) -> None:
    ok("deploy", bot(tmp_path), "--database", database)
    ok("deploy", bot(tmp_path, "Hi!"), "--database", database)

    assert "production now runs release 1 (was 2)" in ok("rollback", "1", "--database", database)
    assert "already current" in ok("rollback", "1", "--database", database)
    listing = ok("releases", "--bot", "shop", "--database", database).splitlines()
    assert [line.split()[0] for line in listing[1:]] == ["*", "2"]


def test_rollback_to_a_missing_release_names_the_ones_there_are(
    tmp_path: Path, database: str
) -> None:
    ok("deploy", bot(tmp_path), "--database", database)

    result = parley("rollback", "5", "--database", database)

    assert result.exit_code == 1
    assert "bot 'shop' has no release 5: its releases are 1 to 1" in result.output


def test_a_bot_never_deployed_is_an_error_for_releases_and_rollback(
    tmp_path: Path, database: str
) -> None:
    for args in (
        ["rollback", "1"],
        ["rollback", "1", "--bot", "faq"],
        ["releases", "--bot", "faq"],
    ):
        result = parley(*args, "--database", database)
        assert result.exit_code == 1, args
        assert "releases: `parley deploy BOT_DIR` makes the first" in result.output


def test_rollback_asks_which_bot_when_several_were_deployed(tmp_path: Path, database: str) -> None:
    ok("deploy", bot(tmp_path), "--database", database)
    ok("deploy", bot(tmp_path, name="faq"), "--database", database)

    result = parley("rollback", "1", "--database", database)

    assert result.exit_code == 1
    assert "releases of several bots (faq, shop): name one with --bot" in result.output
    assert "already current" in ok("rollback", "1", "--bot", "faq", "--database", database)
