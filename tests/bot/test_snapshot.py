"""A bot folder as a release's files: what is kept, the digest, checks and loading back."""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import pytest

from parley.bot.snapshot import check_files, digest, load_files, snapshot
from parley.errors import BotInvalid
from tests.harness import write_bot

BOT = """\
name: shop
intents: {greet: {examples: [hi]}}
nodes: {greet: {intents: [greet], says: "Hello"}}
"""


def shop(tmp_path: Path) -> Path:
    folder = write_bot(tmp_path / "shop", BOT)
    (folder / "code").mkdir()
    (folder / "code" / "price.py").write_text("def main(event, context):\n    return {}\n")
    return folder


def test_every_text_file_is_kept_and_hidden_cache_and_binary_files_are_not(
    tmp_path: Path,
) -> None:
    folder = shop(tmp_path)
    for hidden in (".env", ".git/config", "code/__pycache__/price.pyc", ".parley/parley.db"):
        (folder / hidden).parent.mkdir(parents=True, exist_ok=True)
        (folder / hidden).write_text("SECRET=1")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\x00")
    (folder / "notes.md").write_bytes("line one\r\nZoë\r\n".encode())

    snap = snapshot(folder)

    assert sorted(snap.files) == ["bot.yaml", "code/price.py", "notes.md"]
    assert snap.files["notes.md"] == "line one\r\nZoë\r\n"  # exactly as on disk
    assert snap.skipped == ["logo.png"]


def test_the_digest_follows_names_and_contents_only() -> None:
    files = {"bot.yaml": "name: shop\n", "code/a.py": "x = 1\n"}

    assert digest(files) == digest(dict(reversed(files.items())))
    assert digest(files) != digest({**files, "code/a.py": "x = 2\n"})
    assert digest(files) != digest({"bot.yaml": "name: shop\n", "code/b.py": "x = 1\n"})


def test_a_missing_folder_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(BotInvalid, match="no such folder"):
        snapshot(tmp_path / "nope")


def test_check_reports_bot_problems_and_python_syntax_errors_at_file_and_line(
    tmp_path: Path,
) -> None:
    folder = shop(tmp_path)
    files = snapshot(folder).files
    files["bot.yaml"] = files["bot.yaml"].replace("says:", "sayz:")
    files["code/price.py"] = "def main(event, context):\n    return {\n"
    files["code/ok.py"] = "s = '\\d'\n"  # a SyntaxWarning, not an error

    problems = [str(p) for p in check_files(files, str(folder))]

    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{folder}/bot.yaml:3: nodes.greet.sayz: unknown key")
    assert problems[1].startswith(f"{folder}/code/price.py:2: Python syntax error:")


def test_a_valid_bot_has_no_problems(tmp_path: Path) -> None:
    assert check_files(snapshot(shop(tmp_path)).files, "shop") == []


def test_a_loaded_release_reads_its_own_folder_which_goes_with_the_bot(tmp_path: Path) -> None:
    bot = load_files(snapshot(shop(tmp_path)).files, "shop release 1")
    folder = bot.path

    assert bot.spec.name == "shop"
    assert (folder / "code" / "price.py").read_text().startswith("def main")
    del bot
    gc.collect()
    assert not folder.exists()


def test_loading_an_invalid_release_names_it_and_leaves_no_folder(tmp_path: Path) -> None:
    files = {"bot.yaml": "name: shop\nnodes: {a: {sayz: hi}}\n"}
    before = set(Path(tempfile.gettempdir()).glob("parley-release-*"))

    with pytest.raises(BotInvalid) as caught:
        load_files(files, "shop release 7")

    assert str(caught.value.problems[0]).startswith("shop release 7/bot.yaml:2: nodes.a.sayz")
    assert set(Path(tempfile.gettempdir()).glob("parley-release-*")) == before


@pytest.mark.parametrize("name", ["../escape.py", "/etc/passwd"])
def test_release_files_cannot_leave_their_folder(name: str) -> None:
    with pytest.raises(BotInvalid, match="must stay in its folder"):
        load_files({"bot.yaml": BOT, name: "x = 1\n"}, "shop")
