"""The shape of the library: imports flow one way, and the core never needs xlwings.

read → rules → output → citywide → addin → cli, with findings, errors and schema beneath them
all. A lower piece importing a higher one fails here, naming the module and the import.
"""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "planvalidator"

# A piece may import its own modules and every piece of a lower rank.
RANK = {"a1": -1, "safetext": -1, "catalogue": -0.5, "errors": 0, "findings": 0, "bounds": 0.5,
        "schema": 1, "read": 2, "rules": 3, "output": 4, "citywide": 5, "addin": 6, "publish": 6,
        "cli": 7, "__main__": 8, "__init__": 8}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[:2] == ("addin", "files"):   # xlwings-server's project folder, loaded by it
            continue
        yield path, parts


def _imported_pieces(path: Path, parts: tuple[str, ...]):
    """(piece, line) for every planvalidator module this file imports, relative or absolute."""
    package = ["planvalidator", *parts[:-1]]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
                names = [target + [a.name] for a in node.names] if len(target) == 1 else [target]
            else:
                names = [(node.module or "").split(".")]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        else:
            continue
        for name in names:
            if name[0] == "planvalidator" and len(name) > 1:
                yield name[1], node.lineno


def test_imports_flow_one_way():
    wrong = []
    for path, parts in _modules():
        piece = parts[0]
        for target, line in _imported_pieces(path, parts):
            if target in RANK and target != piece and RANK[target] >= RANK[piece]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({piece}) imports {target}")
    assert wrong == []


def test_every_module_belongs_to_a_piece():
    assert [p for p, parts in _modules() if parts[0] not in RANK] == []


def test_the_layer_check_catches_an_upward_import(tmp_path):
    """The check itself can fail: a rules module importing citywide is reported."""
    bad = tmp_path / "x.py"
    bad.write_text("from ..citywide.merge import merge\nfrom ..read.plan import Plan\n")
    assert list(_imported_pieces(bad, ("rules", "x"))) == [("citywide", 1), ("read", 2)]


def test_the_core_does_not_import_xlwings():
    """Every module outside the add-in imports without xlwings: templates, validate, merge and
    the rest need no xlwings licence."""
    code = ("import importlib, sys\n"
            f"for name in {[m for m in _core_modules()]!r}:\n"
            "    importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('xlwings', 'xlwings_server'))\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _core_modules():
    for _, parts in _modules():
        if parts[0] not in ("addin", "__main__"):
            names = parts[:-1] if parts[-1] == "__init__" else parts
            yield ".".join(["planvalidator", *names])
