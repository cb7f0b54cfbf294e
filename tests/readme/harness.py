"""Reading README.md's code examples, and running them against the sandbox.

The README is read into sections (`## ` headings) holding fenced code blocks.
An HTML comment right before a block, `<!-- example: ... -->`, says how the
block runs when it does not run the usual way; several forms join with `;`:

- `skip: REASON`: not run (the test reports it skipped, with the reason);
- `run`: a shell block, run in the section's folder with a clean environment;
- `run with the sandbox`: the same, with the `CAFE24_*` variables of the
  section's sandbox set (and `tokens.json` holding a token per mall);
- `needs redis`: `REDIS_URL` points at a Redis server of the test's own;
- `server on port N`: the block is a program that serves until stopped: it runs
  in a subprocess with port N replaced by a free one, must answer HTTP there,
  and is then stopped with Ctrl-C;
- `env NAME=VALUE`: an environment variable the block reads.

Without a comment, a Python block runs in order after the blocks before it in
its section, sharing their names; top-level `await` is allowed. A Python block
whose first line names a file (`# conftest.py`) is a project of several files:
they are written to a folder of their own and pytest runs there. A shell block
without a comment is not run (the test lists it, so one cannot be forgotten).

What a Python block may use without defining it: `sandbox` (a started
`Sandbox`), `store` (a `MemoryTokenStore` with a token for the malls `acme`,
`beta` and `sandbox`), `api` (a `Cafe24` on that sandbox and store) and `mall`
(`api.mall("acme")`); the section runs in a folder whose `tokens.json` holds
the same tokens. Two rules let examples show real-life code:

- every `Cafe24(...)` call is pointed at the sandbox: its base URLs (and
  D.Collection credentials) are the sandbox's, and the placeholder `"..."` as
  client id or secret stands for the sandbox's (a call given `**options` is
  taken as already set up);
- a statement followed by a comment naming an exception and its message,
  `# cafe24_async.errors.ValidationError: limit: must be at most 100 (...)`, must
  raise exactly that.

In shell blocks, `8024` (the sandbox's default port) becomes a free port, and a
`cafe24-async sandbox serve` line runs in the background until the section
ends; the next line runs once it listens. Shell blocks run with the project's
commands on PATH, as after `. .venv/bin/activate` (which works there too).
"""

from __future__ import annotations

import ast
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

DIRECTIVE = re.compile(r"^<!--\s*example:\s*(?P<text>.*?)\s*-->$")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
EXPECTED_ERROR = re.compile(r"^\s*#\s*(?P<name>[\w.]*(?:Error|Exception|Warning)):\s?(?P<message>.*)$")
FILE_MARK = re.compile(r"^#\s*(?P<name>[\w./-]+\.py)\s*$")
PYTHON = {"python", "py"}
SHELL = {"sh", "bash", "shell", "console"}
TEXT = {"", "text", "txt"}


@attrs.frozen
class Block:
    section: str
    lang: str
    #: README line of the block's first code line.
    line: int
    code: str
    directives: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.lang in PYTHON:
            return "python"
        if self.lang in SHELL:
            return "shell"
        if self.lang in TEXT:
            return "text"
        return self.lang

    def directive(self, prefix: str) -> str | None:
        """The text after `prefix` of the first directive starting with it (None: none)."""
        for d in self.directives:
            if d == prefix or d.startswith(prefix + " ") or d.startswith(prefix + ":"):
                return d[len(prefix):].lstrip(" :")
        return None

    @property
    def skip_reason(self) -> str | None:
        return self.directive("skip")

    @property
    def env(self) -> dict[str, str]:
        pairs = [d[4:] for d in self.directives if d.startswith("env ")]
        return dict(p.split("=", 1) for p in pairs)

    @property
    def files(self) -> dict[str, str] | None:
        """The files of a several-file example (`# conftest.py` ...), or None."""
        lines = self.code.splitlines()
        if not lines or not FILE_MARK.match(lines[0]):
            return None
        files: dict[str, list[str]] = {}
        current = ""
        for line in lines:
            mark = FILE_MARK.match(line)
            if mark:
                current = mark["name"]
                files[current] = []
            else:
                files[current].append(line)
        return {name: "\n".join(body).strip() + "\n" for name, body in files.items()}

    def where(self) -> str:
        return f"README.md:{self.line} ({self.section})"


def read_blocks(text: str | None = None) -> list[Block]:
    """Every fenced block of the README, with its section and directives."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    section = "(top)"
    pending: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
            pending = []
        directive = DIRECTIVE.match(line.strip())
        if directive:
            pending += [d.strip() for d in directive["text"].split(";") if d.strip()]
        fence = FENCE.match(line)
        if fence:
            start = i + 1
            j = start
            while j < len(lines) and lines[j].rstrip() != "```":
                j += 1
            blocks.append(Block(section, fence["lang"].lower(), start + 1, "\n".join(lines[start:j]),
                                tuple(pending)))
            pending = []
            i = j + 1
            continue
        if line.strip() and not directive:
            pending = []  # a directive applies to the block right after it
        i += 1
    return blocks


def sections(blocks: list[Block]) -> dict[str, list[Block]]:
    grouped: dict[str, list[Block]] = {}
    for block in blocks:
        grouped.setdefault(block.section, []).append(block)
    return grouped


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- Python: the rewrites ------------------------------------------------------------------


HARNESS = "__readme__"
PLACEHOLDER = "..."
URL_OPTIONS = ("base_url", "analytics_base_url", "dcollection_base_url", "dcollection_credentials")


def _option(name: str) -> ast.expr:
    """`__readme__.options["name"]`."""
    return ast.Subscript(
        value=ast.Attribute(value=ast.Name(HARNESS, ast.Load()), attr="options", ctx=ast.Load()),
        slice=ast.Constant(name), ctx=ast.Load(),
    )


def _is_placeholder(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == PLACEHOLDER


class ToSandbox(ast.NodeTransformer):
    """Every `Cafe24(...)` call pointed at the sandbox (see the module docstring)."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name != "Cafe24" or any(k.arg is None for k in node.keywords):
            return node
        for index, option in enumerate(("client_id", "client_secret")):
            if index < len(node.args) and _is_placeholder(node.args[index]):
                node.args[index] = _option(option)
        keywords = [k for k in node.keywords if k.arg not in URL_OPTIONS]
        for keyword in keywords:
            if keyword.arg in ("client_id", "client_secret") and _is_placeholder(keyword.value):
                keyword.value = _option(keyword.arg)
        keywords += [ast.keyword(arg=o, value=_option(o)) for o in URL_OPTIONS]
        node.keywords = keywords
        return node


class PortTo(ast.NodeTransformer):
    """Integer constants `old` become `new` (a server example's port)."""

    def __init__(self, old: int, new: int) -> None:
        self.old, self.new = old, new

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if node.value == self.old and type(node.value) is int:
            return ast.copy_location(ast.Constant(self.new), node)
        return node


def expectations(tree: ast.Module, block: Block) -> ast.Module:
    """Statements followed by `# SomeError: message` wrapped to require exactly that error."""
    lines = block.code.splitlines()
    body: list[ast.stmt] = []
    for stmt in tree.body:
        after = (stmt.end_lineno or stmt.lineno) - block.line + 1  # index of the line after it
        match = EXPECTED_ERROR.match(lines[after]) if 0 <= after < len(lines) else None
        if match is None:
            body.append(stmt)
            continue
        check = ast.parse(
            f"{HARNESS}.raised(__error__, {match['name']!r}, {match['message']!r})\n"
        ).body
        missing = ast.parse(f"{HARNESS}.not_raised({match['name']!r}, {stmt.lineno})\n").body
        handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name="__error__", body=check)
        wrapped = ast.Try(body=[stmt], handlers=[handler], orelse=missing, finalbody=[])
        body.append(ast.copy_location(wrapped, stmt))
    tree.body = body
    return ast.fix_missing_locations(tree)


def python_tree(block: Block, port: tuple[int, int] | None = None) -> ast.Module:
    """The block's code, parsed with README line numbers and rewritten for the sandbox."""
    source = "\n" * (block.line - 1) + block.code + "\n"
    tree = ast.parse(source, filename=str(README))
    tree = expectations(tree, block)
    tree = ToSandbox().visit(tree)
    if port is not None:
        tree = PortTo(*port).visit(tree)
    return ast.fix_missing_locations(tree)


class Outcome:
    """What the rewritten code calls: the sandbox's options, and the error checks."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def raised(self, error: BaseException, name: str, message: str) -> None:
        qualified = f"{type(error).__module__}.{type(error).__qualname__}"
        if not (qualified == name or type(error).__qualname__ == name.rpartition(".")[2]):
            raise AssertionError(f"expected {name}, got {qualified}: {error}") from error
        if str(error) != message:
            raise AssertionError(f"expected the message {message!r}, got {str(error)!r}") from error

    def not_raised(self, name: str, line: int) -> None:
        raise AssertionError(f"README.md:{line}: expected {name}, nothing was raised")


# -- shell -----------------------------------------------------------------------------------


SERVE = re.compile(r"^\s*(?:\S*/)?cafe24-async\s+sandbox\s+serve\b")


def shell_lines(block: Block, port: int) -> Iterator[tuple[bool, str]]:
    """(is a `sandbox serve` line, the line) with 8024 replaced by `port`."""
    for line in block.code.replace("8024", str(port)).splitlines():
        if SERVE.match(line) and "--port" not in line:
            line = line.replace("serve", f"serve --port {port}", 1)
        yield bool(SERVE.match(line)), line
