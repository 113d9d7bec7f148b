"""The documentation says what the code does: links resolve, every exit code, environment variable,
option and subcommand is documented, and troubleshooting quotes only messages the code really prints.

Troubleshooting quotes a printed message in a fenced block with the info string `message` (one message
per line; `<...>` marks a part that changes, `…` text left out) and a log line in a block with the info
string `event` (a JSON object whose "event" the code logs). Each quoted line must be explained by the
code's own strings (see `_explained_prefix`): a run of constants, f-strings whose literal parts appear
in order with their values in between, and punctuation. A message the code glues from several strings
passes; an invented, reworded or outdated one does not.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from arkouda_k8s import settings
from arkouda_k8s.cli import COMMANDS
from arkouda_k8s.errors import ExitCode
from arkouda_k8s.kube.resources import ENDPOINT_SLICES, ENDPOINTS, NAMESPACES, PODS, SERVICES

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
LINKED_PAGES = [*PAGES, ROOT / "README.md"]
# Where messages and log events come from: the product code (not the test bed) and the charts' templates.
CODE_TREES = [ROOT / "src" / "arkouda_k8s", ROOT / "registrar", ROOT / "resolver", ROOT / "entrypoints"]
TEMPLATE_GLOBS = ["charts/*/templates/*.yaml", "charts/*/templates/*.tpl", "charts/*/templates/*.txt"]

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```(\w[\w-]*)?[^\n]*\n(.*?)^```", re.S | re.M)
_PLACEHOLDER = re.compile(r"<[^<>\n]*>|…")
_PLACEHOLDER_ONLY = re.compile(r"<[^<>\n]*>")
_HOLE = "\x01"  # a placeholder of the docs (<name>), compacted to one character
_ELIDED = "\x02"  # the docs' "…": the rest of a string left out
_SKIPPABLE = " \t\n:;,.'\"=()[]/|-"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _product_files() -> Iterator[Path]:
    for tree in CODE_TREES:
        for path in sorted(tree.rglob("*.py")):
            if "testing" not in path.relative_to(ROOT).parts:
                yield path


# --- links ---------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def _anchors(path: Path) -> frozenset[str]:
    outside_fences = _FENCE.sub("", _text(path))
    seen: dict[str, int] = {}
    anchors = set()
    for line in outside_fences.splitlines():
        match = re.match(r"^#{1,6}\s+(.*)$", line)
        if not match:
            continue
        slug = _slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return frozenset(anchors)


def _links(path: Path) -> Iterator[str]:
    for match in _LINK.finditer(_FENCE.sub("", _text(path))):
        yield match.group(1)


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files_and_headings(page: Path) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: …: not ours to check
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(f"{target}: no such file {resolved}")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading with anchor #{anchor} in {resolved.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


_RUNNABLE = re.compile(r"^```python run\n(.*?)^```", re.S | re.M)
RUNNABLE_BLOCKS = [(page, block) for page in PAGES for block in _RUNNABLE.findall(_text(page))]
RUNNABLE_IDS = list(enumerate(RUNNABLE_BLOCKS))


def test_there_are_runnable_blocks() -> None:
    assert RUNNABLE_BLOCKS, "no ```python run block in docs/ (the quickstart's emulator example has one)"


@pytest.mark.parametrize(("page", "block"), RUNNABLE_BLOCKS, ids=[f"{p.stem}-{i}" for i, (p, _) in RUNNABLE_IDS])
def test_a_runnable_block_runs_and_prints_what_its_comments_say(page: Path, block: str, tmp_path: Path) -> None:
    """A ```python run block runs in a fresh interpreter; a `print(...)  # text` line promises its output."""
    script = tmp_path / "block.py"
    script.write_text(block)
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, f"{page.name}: the block failed:\n{done.stderr}"
    promised = re.findall(r"^\s*print\(.*\)\s+#\s*(.+)$", block, re.M)
    assert promised, f"{page.name}: a runnable block must say what it prints (`print(...)  # output`)"
    assert done.stdout.splitlines() == promised


def test_the_docs_index_lists_every_page() -> None:
    index = _text(DOCS / "README.md")
    missing = [p.name for p in PAGES if p.name != "README.md" and f"]({p.name})" not in index]
    assert not missing, f"docs/README.md does not link to: {missing}"


# --- what must be documented -----------------------------------------------------------------------


def test_every_exit_code_is_in_the_operations_table() -> None:
    table = _text(DOCS / "operations.md")
    missing = [
        f"{code.value} {code.name}"
        for code in ExitCode
        if not re.search(rf"^\| {code.value} \| `{code.name}` \|", table, re.M)
    ]
    assert not missing, f"docs/operations.md has no exit-code row for: {missing}"


def test_every_environment_variable_of_the_settings_is_documented() -> None:
    docs = "\n".join(_text(p) for p in PAGES)
    missing = sorted({env for opt in settings.OPTIONS.values() for env in opt.env if f"`{env}`" not in docs})
    assert not missing, f"environment variables not documented in docs/: {missing}"


def test_every_option_has_its_row_in_the_configuration_reference() -> None:
    rows = [line for line in _text(DOCS / "configuration.md").splitlines() if line.startswith("| `--")]
    problems = []
    for name, opt in settings.OPTIONS.items():
        row = next((r for r in rows if r.startswith(f"| `{opt.flag}`")), None)
        if row is None:
            problems.append(f"{name}: no row starting with `{opt.flag}`")
            continue
        cells = row.split(" | ")
        problems += [f"{name}: {env} not in its row" for env in opt.env if f"`{env}`" not in cells[1]]
        if opt.is_bool and f"`--no-{opt.flag[2:]}`" not in row:
            problems.append(f"{name}: boolean without --no-{opt.flag[2:]}")
        if opt.default is not None and not opt.secret and f"`{opt.default}`" not in cells[2]:
            problems.append(f"{name}: default `{opt.default}` not in its row")
    documented = {r.split("`")[1] for r in rows}
    problems += [
        f"{flag}: documented but not an option" for flag in documented - {o.flag for o in settings.OPTIONS.values()}
    ]
    assert not problems, "docs/configuration.md: " + "; ".join(problems)


def test_defaults_quoted_in_the_prose_are_the_code_defaults() -> None:
    """`PROBE_PERIOD` (3 s) in a sentence must say the default the code has."""
    by_env = {env: opt for opt in settings.OPTIONS.values() for env in opt.env}
    wrong = []
    for page in PAGES:
        for match in re.finditer(r"`([A-Z][A-Z0-9_]+)` \((\d+(?:\.\d+)?)(?: s)?[;),]", _text(page)):
            opt = by_env.get(match.group(1))
            if opt is not None and isinstance(opt.default, int | float) and float(match.group(2)) != opt.default:
                wrong.append(f"{page.name}: {match.group(0)} but the default is {opt.default}")
    assert not wrong, "; ".join(wrong)


def test_every_cli_subcommand_is_documented() -> None:
    docs = "\n".join(_text(p) for p in PAGES)
    missing = [c.name for c in COMMANDS if f"arkouda-k8s {c.name}" not in docs]
    assert not missing, f"subcommands not documented in docs/: {missing}"


def test_known_gap_notes_match_the_code() -> None:
    """The notes saying `server`/`single` do not serve --health-port must go when that is fixed."""
    serves = any("httpd" in _text(ROOT / "entrypoints" / f) for f in ("supervise.py", "server.py", "single.py"))
    noted = [p.name for p in PAGES if "<!-- known-gap: entrypoint-healthz -->" in _text(p)]
    if serves:
        assert not noted, f"the entrypoints now serve /healthz: remove the known-gap notes in {noted}"
    else:
        assert noted, "the entrypoints do not serve /healthz: the docs must say so (known-gap notes)"


# --- troubleshooting quotes real messages ------------------------------------------------------------

Template = tuple[str, ...]  # the literal parts of a string the code builds; a value goes between two parts


def _joined_str_parts(node: ast.JoinedStr) -> Template:
    parts, current = [], ""
    for value in node.values:
        if isinstance(value, ast.Constant):
            current += str(value.value)
        else:  # a formatted value: a hole
            parts.append(current)
            current = ""
    return (*parts, current)


def _docstring_ids(tree: ast.AST) -> set[int]:
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


@cache
def _templates() -> tuple[Template, ...]:
    """Every string the product code can print, as templates: constants, f-strings (a hole per value),
    the charts' `fail` messages (a hole per %q/%d/%s), and what the code derives from names (flags,
    subcommands). Docstrings and comments are prose, not output: left out."""
    found: set[Template] = set()
    for path in _product_files():
        tree = ast.parse(_text(path))
        skip = _docstring_ids(tree)
        inside_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in ast.walk(n)}
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and id(node) not in skip:
                found.add(_joined_str_parts(node))
            elif (
                isinstance(node, ast.Constant)
                and id(node) not in skip | inside_fstrings
                and isinstance(node.value, str | int)
                and not isinstance(node.value, bool)
            ):
                found.add((str(node.value),))
    for pattern in TEMPLATE_GLOBS:
        for template in sorted(ROOT.glob(pattern)):
            for line in _text(template).splitlines():
                if re.search(r"\bfail\b", line):
                    for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', line):
                        found.add(tuple(re.split(r"%[qdsv]", literal.replace('\\"', '"'))))
    found |= {(opt.flag,) for opt in settings.OPTIONS.values()} | {(c.name,) for c in COMMANDS}
    found |= {(res.describe(),) for res in (PODS, SERVICES, ENDPOINTS, ENDPOINT_SLICES, NAMESPACES)}
    cleaned = set()
    for parts in found:
        # The code's own "<release>", "<server pod>" read like the docs' placeholders: compare them alike.
        parts = tuple(_PLACEHOLDER_ONLY.sub(_HOLE, part) for part in parts)
        # Line breaks and indentation around a whole message (`\n  more: …`) are not part of a line.
        first, *rest = parts
        parts = (first.lstrip(), *rest) if rest else (first.strip(),)
        parts = (*parts[:-1], parts[-1].rstrip())
        if any(part.strip() for part in parts):  # a template of holes only would explain anything
            cleaned.add(parts)
    return tuple(sorted(cleaned))


@cache
def _templates_by_first_char() -> tuple[dict[str, list[Template]], list[Template]]:
    by_char: dict[str, list[Template]] = {}
    hole_first = []
    for parts in _templates():
        if parts[0]:
            by_char.setdefault(parts[0][0], []).append(parts)
        else:
            hole_first.append(parts)
    return by_char, hole_first


def _template_ends(parts: Template, start: int, text: str, reach: list[set[int]]) -> set[int]:
    """Where `parts` can end when it starts at `start`: each hole is a non-empty run of units (reach).

    An elision mark in the message may cut a literal part short: the rest of the template is left out.
    """
    ends: set[int] = set()

    def part_at(part: str, at: int) -> int | None:
        if text.startswith(part, at):
            return at + len(part)
        cut = text.find(_ELIDED, at)
        if cut > at and part.startswith(text[at:cut]):
            ends.add(cut + 1)
        return None

    first = part_at(parts[0], start)
    positions = set() if first is None else {first}
    for part in parts[1:]:
        following: set[int] = set()
        for hole_start in positions:
            for hole_end in reach[hole_start]:
                if (after := part_at(part, hole_end)) is not None:
                    following.add(after)
        positions = following
        if not positions:
            break
    return positions | ends


def _explained_prefix(message: str) -> tuple[str, int]:
    """The message (placeholders compacted) and how much of it, from the start, the code's strings explain.

    A message is a run of units: a placeholder, a punctuation or space character, or a template of the
    code whose literal parts appear in order, each hole filled by a run of units in turn. So a message
    glued from several strings passes, and an invented word, an inserted or a dropped one does not.
    """
    text = _PLACEHOLDER_ONLY.sub(_HOLE, message).replace("…", _ELIDED)
    size = len(text)
    by_char, hole_first = _templates_by_first_char()
    reach: list[set[int]] = [set() for _ in range(size + 1)]  # ends of non-empty runs of units from each position
    for start in range(size - 1, -1, -1):
        char = text[start]
        ends: set[int] = set()
        if char in (_HOLE, _ELIDED) or char in _SKIPPABLE:
            ends.add(start + 1)
        for parts in by_char.get(char, []):
            ends |= _template_ends(parts, start, text, reach)
        while True:  # templates that start with a hole need the runs from here: grow to a fixed point
            reach[start] = ends | {e for end in ends for e in reach[end]}
            grown = set(ends)
            for parts in hole_first:
                grown |= _template_ends(parts, start, text, reach)
            if grown == ends:
                break
            ends = grown
    explained = max(reach[0], default=0)
    return text, explained


def _unknown_parts(message: str) -> list[str]:
    """[] when the code's strings explain the whole message, else the text from where they stop."""
    text, explained = _explained_prefix(message)
    if not re.search(r"[A-Za-z]", _PLACEHOLDER.sub("", message)):
        return [message]  # placeholders and punctuation alone quote nothing
    return [] if explained == len(text) else [text[explained:].replace(_HOLE, "<…>").replace(_ELIDED, "…")]


def _blocks(kind: str) -> list[str]:
    return [m.group(2) for m in _FENCE.finditer(_text(DOCS / "troubleshooting.md")) if m.group(1) == kind]


def _quoted_messages() -> list[str]:
    return [line.strip() for block in _blocks("message") for line in block.splitlines() if line.strip()]


@cache
def _logged_events() -> frozenset[str]:
    """The event names of every log call: constants in its first argument, or assigned to the variable
    that is its first argument (`event = "a" if x else "b"; log.error(event, ...)`)."""
    events: set[object] = set()
    for path in _product_files():
        tree = ast.parse(_text(path))
        assigned: dict[str, set[object]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants = {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)}
                        assigned.setdefault(target.id, set()).update(constants)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("debug", "info", "warning", "error")
                and node.args
            ):
                first = node.args[0]
                events |= {c.value for c in ast.walk(first) if isinstance(c, ast.Constant)}
                if isinstance(first, ast.Name):
                    events |= assigned.get(first.id, set())
    return frozenset(e for e in events if isinstance(e, str))


def test_troubleshooting_quotes_enough_messages() -> None:
    assert len(_quoted_messages()) >= 40
    assert len(_blocks("event")) >= 10


@pytest.mark.parametrize("message", _quoted_messages())
def test_troubleshooting_quotes_a_message_the_code_prints(message: str) -> None:
    unknown = _unknown_parts(message)
    assert not unknown, f"not found in the source: {unknown!r}"


@pytest.mark.parametrize("block", _blocks("event"))
def test_troubleshooting_quotes_an_event_the_code_logs(block: str) -> None:
    line = json.loads(block)
    assert line["event"] in _logged_events(), f"no log call emits {line['event']!r}"
    assert line["level"] in ("debug", "info", "warning", "error")


@pytest.mark.parametrize(
    "invented",
    [
        "there is no Servce '<name>' in namespace '<ns>'",
        "the registrar exploded: <why>",
        "no sshd answered on <host>:<port> within <s> s: last try: <what>",
        "Service not found: there is no Service named '<name>'",
        "arkouda-k8s server: error: missing --pod-ip (env POD_IP): it is the first GASNet host",
        "private key <file> is a <n>-bit RSA key; use at least 4096 bits",
    ],
)
def test_the_message_check_refuses_an_invented_message(invented: str) -> None:
    assert _unknown_parts(invented) != []


def test_the_message_check_accepts_a_message_glued_from_literals() -> None:
    assert (
        _unknown_parts("arkouda-k8s server: error: invalid NUMLOCALES=<value>: must be an integer of at least 1") == []
    )


# --- CI runs what README says ---------------------------------------------------------------------------


def _ci_commands() -> list[str]:
    """The commands .ci/run runs at its top level: not inside an `if`, a loop or a pipeline."""
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "set ", "cd ", "export "))]


def test_ci_runs_the_setup_the_readme_test_command_and_the_soak_unconditionally() -> None:
    readme = _text(ROOT / "README.md")
    test_command = re.search(r"## Run the tests\s+```bash\n(.+?)\n```", readme, re.S)
    assert test_command, "README.md has no `## Run the tests` block"
    commands = _ci_commands()
    # Each a statement of its own: a condition or a pipe (with pipefail) could skip it silently.
    assert commands == ["./setup.sh", test_command.group(1).strip(), ".venv/bin/pytest -m soak"], commands
    assert "set -euo pipefail" in (ROOT / ".ci" / "run").read_text()
