"""A bot's Python: read code files into the spec, and find what `parley check` reports about
them before anything runs: a syntax error (file and line) and imports of modules the sandbox
does not offer (anything but the standard library and the supported packages)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from parley.bot.schema import BotSpec, CodeSpec
from parley.bot.source import KeyPath, SourceMap
from parley.errors import Problem

SUPPORTED_PACKAGES = frozenset(
    {
        # Haptik's extra packages (seed 001), by import name; `pip install parley[code]`
        "chardet", "gspread", "httplib2", "idna", "MySQLdb", "oauth2client", "pyasn1",
        "pyasn1_modules", "pytz", "redis", "requests", "rsa", "six", "unicodecsv", "urllib3",
        # the AWS Lambda runtime's own, which Haptik's code also had
        "boto3", "botocore", "dateutil", "jmespath", "s3transfer",
    }
)  # fmt: skip
"""What code may import besides the standard library."""


def load_code(spec: BotSpec, folder: Path, source: SourceMap) -> tuple[BotSpec, list[Problem]]:
    """`spec` with every code `file` read into its `source`, and the problems found."""
    problems: list[Problem] = []
    nodes = dict(spec.nodes)
    for name, node in spec.nodes.items():
        if node.code is not None:
            key = ("nodes", name, "code")
            code = _read(node.code, folder, source, key, "main", problems)
            nodes[name] = node.model_copy(update={"code": code})
    logic = spec.logic
    if logic is not None and logic.code is not None:
        code = _read(logic.code, folder, source, ("logic", "code"), "handle", problems)
        logic = logic.model_copy(update={"code": code})
    return spec.model_copy(update={"nodes": nodes, "logic": logic}), problems


def _read(
    code: CodeSpec,
    folder: Path,
    source: SourceMap,
    key: KeyPath,
    entry: str,
    problems: list[Problem],
) -> CodeSpec:
    if code.file is None:
        where = source.locate(key)
        offset = where.line if where else 0  # `code: |` starts on the line after the key
        file = where.file if where else source.default_file
        problems += scan(code.source or "", file, offset, entry=entry)
        return code
    path = (folder / code.file).resolve()
    if not path.is_relative_to(folder.resolve()):
        problems.append(source.problem((*key, "file"), "a code file must be in the bot folder"))
        return code
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else f"cannot read: {exc}"
        problems.append(source.problem((*key, "file"), f"{reason}: {code.file}"))
        return code
    problems += scan(text, str(path), 0, entry=entry)
    return code.model_copy(update={"source": text})


_SIGNATURES = {"main": "main(event, context)", "handle": "handle(client)"}


def scan(text: str, file: str, offset: int = 0, *, entry: str = "") -> list[Problem]:
    """A syntax error, or every import of a module the sandbox does not offer and a missing
    `entry` function, in `text` (reported in `file`, lines shifted by `offset`)."""
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as exc:
        line = (exc.lineno or 0) + offset or None
        return [Problem(file, line, "", f"SyntaxError: {exc.msg}")]
    except ValueError as exc:  # a NUL byte
        return [Problem(file, None, "", f"SyntaxError: {exc}")]
    problems = []
    if entry and not _defines(tree, entry):
        message = f"the code defines no `{_SIGNATURES.get(entry, entry)}` function"
        problems.append(Problem(file, offset + 1 if offset else None, "", message))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.partition(".")[0]
            if top not in sys.stdlib_module_names and top not in SUPPORTED_PACKAGES:
                problems.append(
                    Problem(
                        file,
                        node.lineno + offset,
                        "",
                        f"import of `{name}` is not allowed: code may import the standard"
                        " library and the supported packages (docs/code.md)",
                    )
                )
    return problems


def _defines(tree: ast.Module, name: str) -> bool:
    """Whether the module's top level binds `name` (a def, an assignment or an import)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return True
        if isinstance(node, ast.Import | ast.ImportFrom) and any(
            (alias.asname or alias.name) == name for alias in node.names
        ):
            return True
    return False
