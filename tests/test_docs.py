"""Every fenced block of README.md, docs/*.md and examples/README.md runs here, page by page and
in order, as a reader following the page would run it, and must do what the page says.

How a block runs depends on the word after its opening fence:

- console: each line starting with "$ " is a command; the lines after it, up to the next "$ ",
  are what it prints (stdout and stderr), compared exactly. A last line "..." shortens a
  listing: only the lines above it are compared. A comment after a command ending in "exits N"
  (`# ... exits 1`): it must exit with N.
- bash: each command (a line; a trailing backslash joins lines; comment lines are skipped) must
  exit with 0, or with N when its comment ends in "exits N".
- python: executed on its own, in a fresh namespace (so every import it needs is in it).
- pycon: a doctest (ELLIPSIS).
- yaml: must parse.
- anything else (no word, nginx, vb, ...) can't run here and says why in an HTML comment on the
  nearest non-blank line above it: <!-- docs-test: skip (REASON) -->. A block that can't run
  and has no such comment, or a comment without a reason, fails the test.

Where: each page gets a sandbox, a copy of the repository's tracked files plus an addin.yaml
(the tokens of tests/serving.py), as the working folder (so `examples/...`, `schemas/...` and
`python examples/build.py` work as in a checkout); what a block writes is there for the blocks
after it. `planvalidator ...` commands run in this process
(the same `main` the installed command calls); anything else runs under bash, with this
interpreter's bin folder first on PATH. `export NAME=VALUE` holds for the rest of the page.

The only normalisations:
- the sandbox's path is removed from what a command prints;
- `python3 -m venv .venv`, `. .venv/bin/activate` and `pip install [-e] SPEC` made the
  environment this test runs in: the test checks that SPEC is this checkout with extras that
  pyproject.toml defines and that are installed, and runs the rest of the line with the current
  interpreter (tests/test_wheel.py installs into a fresh venv);
- `python -m pytest ...` runs with `--collect-only` (the suite itself runs those tests);
- `planvalidator serve` runs in a subprocess on a free loopback port, with the sandbox's
  addin.yaml in place of whatever config it names; it must
  answer /taskpane.html with 200 and keeps running until the page ends, and
  `http://127.0.0.1:8000` and `https://plans.example.gov` in later commands of the page are
  its address.

After a change of the tool (or a merge of branches) refresh the shown outputs with

    python tests/test_docs.py --update [PAGE ...]

which reruns every page and rewrites the output lines of its console blocks; review the diff.
"""

from __future__ import annotations

import collections
import contextlib
import doctest
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import OFFICE, TOKENS, free_port  # noqa: E402

from planvalidator.cli import main as cli  # noqa: E402
from planvalidator.rules.validate import validate_workbook  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "examples" / "README.md"]
FENCE = re.compile(r"^( *)```(\S*)\s*$")
SKIP = re.compile(r"^\s*<!-- docs-test: skip \((.+)\) -->\s*$")
EXITS = re.compile(r"#.*\bexits (\d+)\s*$")
DEFAULT_URLS = ("http://127.0.0.1:8000", "https://plans.example.gov")


@dataclass
class Block:
    page: Path
    line: int              # 1-based line of the opening fence
    indent: str
    lang: str
    body: list[str]        # without the indent
    skip: str | None       # the reason of a skip comment

    @property
    def where(self) -> str:
        return self.at(-1)

    def at(self, i: int) -> str:
        """file:line of the block's line i (0: the first line inside the fences)."""
        return f"{self.page.relative_to(ROOT)}:{self.line + 1 + i}"


def blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, lang = opening.groups()
        end = next(j for j in range(i + 1, len(lines)) if lines[j] == f"{indent}```")
        above = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        skip = SKIP.match(above)
        found.append(Block(page, i + 1, indent, lang,
                           [line[len(indent):] for line in lines[i + 1:end]],
                           skip.group(1).strip() if skip else None))
        i = end + 1
    return found


# ---- running one page ---------------------------------------------------------------------------

@dataclass
class Page:
    sandbox: Path
    env: dict[str, str] = field(default_factory=dict)
    server: subprocess.Popen | None = None
    url: str = ""
    problems: list[str] = field(default_factory=list)

    def clean(self, text: str) -> str:
        return text.replace(f"{self.sandbox}/", "").replace(str(self.sandbox), ".")

    def rewrite(self, command: str) -> str:
        for default in DEFAULT_URLS if self.url else ():
            command = command.replace(default, self.url)
        return command

    def run(self, command: str) -> tuple[int, str]:
        """Exit code and output of one command line, in the sandbox."""
        command = self.rewrite(command)
        words = shlex.split(command, comments=True)
        assignments = {}
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            name, value = words.pop(0).split("=", 1)
            assignments[name] = value
        if words[:1] == ["export"] and len(words) == 2:
            name, value = words[1].split("=", 1)
            self.env[name] = value
            return 0, ""
        if words[:1] == ["planvalidator"] and words[1:2] == ["serve"]:
            return self.serve(words[2:], assignments)
        if words[:1] == ["planvalidator"] and not set(words) & {"|", "&&", ";", ">", "<"}:
            with contextlib.chdir(self.sandbox):
                result = CliRunner(env={**self.env, **assignments}).invoke(
                    cli, words[1:], prog_name="planvalidator")
            if result.exception and not isinstance(result.exception, SystemExit):
                return -1, f"raised {result.exception!r}"
            return result.exit_code, self.clean(result.output)
        if words[:3] == ["python", "-m", "pytest"]:
            command = command.replace("python -m pytest", "python -m pytest --collect-only", 1)
        env = {**os.environ, **self.env, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        done = subprocess.run(["bash", "-c", command], cwd=self.sandbox, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return done.returncode, self.clean(done.stdout)

    def serve(self, args: list[str], assignments: dict[str, str]) -> tuple[int, str]:
        """Start `planvalidator serve ARGS` as the page says, on a free port; 0 once it answers."""
        self.stop()
        kept, skip_value = [], False
        for arg in args:
            if skip_value:
                skip_value = False
            elif arg in ("--host", "--port", "--config"):
                skip_value = True
            else:
                kept.append(arg)
        config = self.sandbox / "addin.yaml"
        port = free_port()
        log = open(self.sandbox / "serve.log", "wb")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "planvalidator", "serve", *kept, "--config", str(config),
             "--host", "127.0.0.1", "--port", str(port)], cwd=self.sandbox,
            env={**os.environ, **self.env, **assignments}, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while self.server.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/taskpane.html", timeout=1).status_code == 200:
                    return 0, ""
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        return 1, (self.sandbox / "serve.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=10)
            self.server, self.url = None, ""


def install(part: str) -> str | None:
    """Why an install step of the docs doesn't describe this environment, or None."""
    words = shlex.split(part)
    if words in (["python3", "-m", "venv", ".venv"], [".", ".venv/bin/activate"]):
        return None
    spec = [w for w in words[2:] if not w.startswith("-")]
    match = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", spec[0]) if len(spec) == 1 else None
    if words[:2] != ["pip", "install"] or not match:
        return f"unknown install step {part!r}"
    defined = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in filter(None, (match.group(1) or "").split(",")):
        if extra not in defined:
            return f"pip install names the extra {extra!r}, which pyproject.toml doesn't define"
        for requirement in defined[extra]:
            name = re.match(r"[\w.-]+", requirement).group(0)
            try:
                metadata.distribution(name)
            except metadata.PackageNotFoundError:
                return f"the extra {extra!r} needs {name}, which is not installed"
    return None


INSTALL = re.compile(r"^(python3 -m venv|\. \.venv/bin/activate|pip install)")


def run_commands(page: Page, block: Block) -> list[str]:
    """A bash block: every command exits as documented."""
    joined, pending, first = [], "", 0
    for i, line in enumerate(block.body):
        if not pending:
            first = i
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append((first, pending + line))
        pending = ""
    for i, line in joined:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        expected = int(EXITS.search(line).group(1)) if EXITS.search(line) else 0
        parts = [p.strip() for p in line.split(" && ")]
        while parts and INSTALL.match(parts[0]):
            if why := install(parts.pop(0)):
                page.problems.append(f"{block.at(i)}: {why}")
        for n, part in enumerate(parts):
            code, output = page.run(part)
            want = expected if n == len(parts) - 1 else 0
            if code != want:
                page.problems.append(f"{block.at(i)}: `{part}` exited {code}, not {want}:\n{output}")
    return block.body


def run_console(page: Page, block: Block) -> list[str]:
    """A console block: each command prints what is shown. Returns the block with the real output."""
    real, i, body = [], 0, block.body
    while i < len(body):
        if not body[i].startswith("$ "):
            page.problems.append(f"{block.at(i)}: not a `$ ` command")
            return body
        command = body[i][2:]
        end = next((j for j in range(i + 1, len(body)) if body[j].startswith("$ ")), len(body))
        shown = body[i + 1:end]
        code, output = page.run(command)
        lines = output.splitlines()
        if shown and shown[-1].strip() == "...":
            lines = lines[:len(shown) - 1] + [shown[-1]]
        if lines != shown:
            page.problems.append(f"{block.at(i)}: `{command}` printed\n" + "\n".join(lines))
        if (m := EXITS.search(command)) and code != int(m.group(1)):
            page.problems.append(f"{block.at(i)}: `{command}` exited {code}, not {m.group(1)}")
        real += [body[i], *lines]
        i = end
    return real


def run_python(page: Page, block: Block) -> list[str]:
    try:
        with contextlib.chdir(page.sandbox):
            run_snippet(page, block)
    except Exception as exc:
        page.problems.append(f"{block.where}: raised {exc!r}")
    return block.body


def run_snippet(page: Page, block: Block) -> None:
    if block.lang == "python":
        with contextlib.redirect_stdout(io.StringIO()):   # what it prints isn't shown
            exec(compile("\n".join(block.body), block.where, "exec"), {"__name__": "__docs__"})
        return
    test = doctest.DocTestParser().get_doctest("\n".join(block.body) + "\n", {}, block.where,
                                               str(block.page), block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = []
    runner.run(test, out=report.append)
    if runner.failures:
        page.problems.append(f"{block.where}: doctest failed\n" + "".join(report))


def run_page(path: Path, sandbox: Path) -> tuple[list[str], str]:
    """Problems found running every block of the page, and the page with real console output."""
    for name in subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True,
                               capture_output=True, text=True).stdout.split("\0"):
        if name and (ROOT / name).is_file():
            (sandbox / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, sandbox / name)
    (sandbox / "addin.yaml").write_text(
        "tokens:\n" + "".join(f'  "{t}": {code}\n' for code, t in TOKENS.items())
        + f'  "{OFFICE}": office\n', encoding="utf-8")
    page = Page(sandbox)
    lines = path.read_text(encoding="utf-8").splitlines()
    replaced = []
    try:
        for block in blocks(path):
            if block.skip is not None:
                continue
            if block.lang == "console":
                body = run_console(page, block)
            elif block.lang == "bash":
                body = run_commands(page, block)
            elif block.lang in ("python", "pycon"):
                body = run_python(page, block)
            elif block.lang == "yaml":
                try:
                    yaml.safe_load("\n".join(block.body))
                except yaml.YAMLError as exc:
                    page.problems.append(f"{block.where}: not YAML: {exc}")
                body = block.body
            else:
                page.problems.append(f"{block.where}: a ```{block.lang} block can't run here; "
                                     "say why with <!-- docs-test: skip (REASON) --> above it")
                body = block.body
            replaced.append((block, body))
    finally:
        page.stop()
    for block, body in reversed(replaced):
        lines[block.line:block.line + len(block.body)] = [
            (block.indent + line) if line else line for line in body]
    return page.problems, "\n".join(lines) + "\n"


# ---- the tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_block_of_the_page_does_what_it_shows(path, tmp_path):
    problems, text = run_page(path, tmp_path)
    assert not problems, "\n\n".join(problems)
    assert text == path.read_text(encoding="utf-8"), "run `python tests/test_docs.py --update`"


def test_only_blocks_that_cannot_run_are_skipped_and_each_says_why():
    skipped = [(b.where.split(":")[0], b.lang, b.skip) for page in PAGES for b in blocks(page)
               if b.skip is not None]
    assert skipped == [
        ("README.md", "text", "zsh and fish are not installed here; tests/test_edges.py checks "
                              "both scripts are produced"),
        ("docs/addin-vba.md", "", "a line of a file on an agency PC, read by Excel"),
        ("docs/addin-vba.md", "vb", "VBA runs in Excel"),
        ("docs/addin.md", "json", "one line of the audit trail"),
        ("docs/addin.md", "logrotate", "a logrotate configuration"),
        ("docs/addin.md", "nginx", "a reverse proxy's configuration"),
        ("docs/addin.md", "bash", "run as root on the server: installs packages, adds a user "
                                  "and a service"),
        ("docs/addin.md", "ini", "a systemd drop-in, written by systemctl edit"),
        ("docs/addin.md", "bash", "needs a container runtime and the python:3.11-slim image from "
                                  "a registry; tests/test_deploy.py checks the files"),
        ("docs/addin.md", "", "a sample file name"),
        ("docs/addin.md", "bash", "needs a store filled by Submit; tests/test_addin.py merges one"),
        ("docs/addin.md", "", "the output of the block above"),
        ("docs/addin.md", "bash", "needs a store filled by Submit; tests/test_twoway_store.py "
                                  "runs it"),
        ("docs/addin.md", "bash", "needs a store filled by Submit; tests/test_twoway_store.py "
                                  "runs these"),
    ]


def test_the_readme_test_command_is_what_ci_runs():
    """README's second command is the one .ci/run runs (.ci/run adds -q to pip)."""
    readme = [line for line in (ROOT / "README.md").read_text().splitlines()
              if line.endswith("python -m pytest -q")]
    ci = [line.replace("pip install -q ", "pip install ")
          for line in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in line]
    assert readme == ci


SAYS = re.compile(r"`([a-z-]+)`(?: ×(\d+))?")


def test_examples_readme_table_counts_what_the_tool_finds():
    """The table of examples/README.md names each example's findings, with ×N for more than one."""
    text = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(list((ROOT / "examples").rglob("*.xlsx")))
    for cells in rows:
        name, says = cells[0].strip("| `"), cells[-1]
        [path] = (ROOT / "examples").rglob(name)
        found = collections.Counter(f.code for f in validate_workbook(path).findings)
        claimed = collections.Counter({code: int(n or 1) for code, n in SAYS.findall(says)})
        assert claimed == found, name


if __name__ == "__main__":
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Run every block of the docs.")
    parser.add_argument("--update", action="store_true",
                        help="rewrite the console blocks' output with what the tool prints now")
    parser.add_argument("pages", nargs="*", type=Path, help="only these pages (default: all)")
    args = parser.parse_args()
    failed = False
    for path in [p.resolve() for p in args.pages] or PAGES:
        with tempfile.TemporaryDirectory() as sandbox:
            problems, text = run_page(path, Path(sandbox))
        if args.update and text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            print(f"updated {path.relative_to(ROOT)}")
        other = [p for p in problems if " printed\n" not in p] if args.update else problems
        for problem in other:
            failed = True
            print(problem, file=sys.stderr)
    sys.exit(1 if failed else 0)
