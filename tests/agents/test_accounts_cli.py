"""`parley business|team|agent add` and `parley credentials` as an operator runs them."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from typer.testing import CliRunner

from parley.cli import app
from parley.storage import create_store
from parley.storage.accounts import hash_token, token_matches


def test_accounts_are_created_and_tokens_printed_once_and_stored_hashed(tmp_path: Path) -> None:
    db = ["--database", f"sqlite:///{tmp_path}/parley.db"]
    runner = CliRunner()

    steps = [
        ["business", "add", "Web", "--bot", "shop", "--id", "7", *db],
        ["team", "add", "support", "--business", "7", *db],
        ["agent", "add", "Ada", "--team", "support", "--business", "7", *db],
        ["credentials", "create", "--client-id", "acme", "--business", "7", *db],
    ]
    outputs = [runner.invoke(app, step) for step in steps]
    listed = runner.invoke(app, ["credentials", "list", *db])
    missing = runner.invoke(app, ["team", "add", "x", "--business", "9", *db])

    assert [o.exit_code for o in outputs] == [0, 0, 0, 0], [o.output for o in outputs]
    agent_token = re.search(r"token: (\S+)", outputs[2].output)
    partner_token = re.search(r"token: (\S+)", outputs[3].output)
    assert agent_token and partner_token
    assert listed.output.strip() == "acme  (7)" and partner_token[1] not in listed.output
    assert missing.exit_code == 1 and "no business 9" in missing.output

    async def stored() -> tuple[object, object]:
        async with create_store(db[1]) as store:
            agent = await store.agent_by_token_hash(hash_token(agent_token[1]))
            return agent, await store.get_credential("acme")

    agent, credential = asyncio.run(stored())
    assert agent is not None and getattr(agent, "name", None) == "Ada"
    assert credential is not None
    assert token_matches(partner_token[1], credential.token_hash)  # type: ignore[attr-defined]
    files = b"".join(f.read_bytes() for f in tmp_path.glob("parley.db*"))
    assert partner_token[1].encode() not in files and agent_token[1].encode() not in files
