"""What city IT deploys: the health endpoint on the real server, and the container, systemd and
proxy files checked without a container runtime.

No image is built here: building needs the python:3.11-slim base image from a container
registry, and CI (like this machine) reaches only PyPI, Debian and npm. Instead each file is
checked against the code it starts: the Dockerfile's build step runs on the files it copies, its
pins resolve with the `addin` extra, its HEALTHCHECK command runs against a real server, its CMD
and the systemd unit's ExecStart are options `serve` accepts, and the unit passes
`systemd-analyze verify` and its offline security check."""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import httpx
import pytest
import yaml
from packaging.requirements import Requirement

from serving import OFFICE, TOKENS, running

from planvalidator.addin.config import DEFAULT_MAX_BODY
from planvalidator.cli import serve as serve_command

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "planvalidator.service"
WHEEL_SOURCES = {"pyproject.toml", "README.md", "planvalidator", "schemas", "templates"}


# ---- the Dockerfile, read as Docker reads it ------------------------------------------------------

def instructions(path: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    found, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        word, _, rest = (pending + line).strip().partition(" ")
        found.append((word.upper(), rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends in a continuation line"
    return found


def stages() -> list[list[tuple[str, str]]]:
    parts = []
    for word, rest in instructions():
        if word == "FROM":
            parts.append([])
        if parts:
            parts[-1].append((word, rest))
    return parts


def exec_form(rest: str) -> list[str]:
    """The JSON array of a CMD or HEALTHCHECK ... CMD (the exec form: no shell in between)."""
    return json.loads(rest[rest.index("["):])


def ignored(name: str) -> bool:
    """Whether .dockerignore keeps `name` out of the build context (last matching line wins)."""
    verdict = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate, pattern = line.startswith("!"), line.lstrip("!").rstrip("/")
        parts = Path(name).parts
        if any(fnmatch.fnmatch("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1)):
            verdict = not negate
    return verdict


def test_the_image_is_python_311_slim_runs_as_a_user_and_sets_no_licence():
    args = dict((rest.split("=")[0], rest.split("=", 1)[1]) for word, rest in instructions()
                if word == "ARG")
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    assert [rest.split()[0] for w, rest in instructions() if w == "FROM"] == ["${PYTHON_IMAGE}"] * 2
    final = stages()[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    # the licence is the operator's choice at run time; the image only documents it
    assert not any("XLWINGS_LICENSE_KEY" in rest for word, rest in instructions()
                   if word in ("ENV", "ARG"))
    assert "XLWINGS_LICENSE_KEY" in (ROOT / "Dockerfile").read_text()
    volumes = [v for word, rest in final if word == "VOLUME" for v in json.loads(rest)]
    assert volumes == ["/srv/planvalidator", "/etc/planvalidator"]


def test_every_file_the_dockerfile_copies_exists_and_is_in_the_build_context():
    copied = []
    for word, rest in instructions():
        if word == "COPY" and not rest.startswith("--from"):
            *sources, _target = shlex.split(rest)
            copied += [s.rstrip("/") for s in sources]
    assert set(copied) >= WHEEL_SOURCES
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not ignored(source), f"{source} is left out by .dockerignore"
    assert ignored(".venv") and ignored(".git") and ignored("tests/test_deploy.py")


def test_the_build_stage_makes_the_wheel_from_the_files_it_copies(tmp_path):
    """Stage 1's RUN, run on a folder holding just what stage 1 copies: a wheel with the
    add-in's project folder, the schemas and the templates."""
    [build] = stages()[:1]
    for word, rest in build:
        if word == "COPY":
            *sources, target = shlex.split(rest)
            for source in sources:
                if (ROOT / source).is_dir():
                    shutil.copytree(ROOT / source, tmp_path / target, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(ROOT / source, tmp_path / target)
    [run] = [rest for word, rest in build if word == "RUN"]
    command = run.replace("pip ", f"{shlex.quote(sys.executable)} -m pip ", 1)
    command = command.replace("/wheels", str(tmp_path / "wheels"))
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = (tmp_path / "wheels").glob("planvalidator-*.whl")
    names = subprocess.run([sys.executable, "-m", "zipfile", "-l", wheel], capture_output=True,
                           text=True, check=True).stdout
    for inside in ("planvalidator/addin/health.py", "planvalidator/addin/files/",
                   "planvalidator/schemas/", "planvalidator/templates/"):
        assert inside in names, inside


def pins() -> dict[str, str]:
    lines = (DEPLOY / "constraints.txt").read_text().splitlines()
    found = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            found[name.strip().lower()] = version.strip()
    return found


def test_the_pins_fit_the_addin_extra_and_xlwings_is_pinned():
    """xlwings must be pinned exactly: the VBA route's xlwings.xlam must be the server's version."""
    import tomllib
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["addin"]
    pinned = pins()
    assert {"xlwings", "xlwings-server"} <= set(pinned)
    for requirement in map(Requirement, extra):
        if requirement.name.lower() in pinned:
            assert requirement.specifier.contains(pinned[requirement.name.lower()]), requirement


def test_the_pinned_addin_extra_resolves(tmp_path):
    """The final stage's install, as pip would resolve it (dry run, this machine's index)."""
    wheel_dir = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir",
                    wheel_dir, ROOT], check=True, capture_output=True)
    [wheel] = wheel_dir.glob("*.whl")
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
         "--report", report, "--constraint", DEPLOY / "constraints.txt", f"{wheel}[addin]"],
        capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    chosen = {item["metadata"]["name"].lower(): item["metadata"]["version"]
              for item in json.loads(report.read_text())["install"]}
    for name, version in pins().items():
        assert chosen.get(name) == version, name


# ---- the command the image, compose and systemd start ---------------------------------------------

def serve_options(args: list[str]) -> dict[str, str]:
    """`planvalidator serve ARGS`'s options, checked against the command's own definition."""
    assert args[:2] == ["planvalidator", "serve"], args
    known = {opt: param for param in serve_command.params for opt in param.opts}
    options, words = {}, iter(args[2:])
    for word in words:
        assert word in known, f"serve has no option {word}"
        value = next(words)
        param = known[word]
        if param.type.name == "integer range":
            param.type.convert(value, param, None)
        options[word] = value
    return options


def test_the_image_serves_the_config_and_store_of_its_volumes_on_its_port():
    final = stages()[-1]
    [cmd] = [exec_form(rest) for word, rest in final if word == "CMD"]
    options = serve_options(cmd)
    [port] = [rest for word, rest in final if word == "EXPOSE"]
    assert options["--port"] == port and options["--host"] == "0.0.0.0"
    assert options["--config"].startswith("/etc/planvalidator/")
    assert options["--store"].startswith("/srv/planvalidator/")
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert f"http://127.0.0.1:{port}/health" in env


def compose_service() -> dict:
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    [service] = doc["services"].values()
    return service


def test_compose_builds_the_dockerfile_and_checks_health_as_the_image_does():
    service = compose_service()
    assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == \
        ROOT / "Dockerfile"
    [healthcheck] = [rest for word, rest in stages()[-1] if word == "HEALTHCHECK"]
    assert service["healthcheck"]["test"] == ["CMD", *exec_form(healthcheck)]
    assert service["environment"]["XLWINGS_LICENSE_KEY"].startswith("${XLWINGS_LICENSE_KEY:?")
    targets = {volume.split(":")[1] for volume in service["volumes"]}
    assert targets == {"/srv/planvalidator", "/etc/planvalidator"}
    [published] = service["ports"]
    assert published == "127.0.0.1:8000:8000"


# ---- the health endpoint, on the real server --------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("served")
    with running(home, TOKENS, OFFICE) as url:
        yield url, home / "submissions"


def healthcheck(url: str) -> int:
    """The exit code of the image's HEALTHCHECK command, run against `url`."""
    [rest] = [rest for word, rest in stages()[-1] if word == "HEALTHCHECK"]
    command = exec_form(rest)
    assert command[0] == "python"
    done = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True,
                          env={"PLANVALIDATOR_HEALTH_URL": url + "/health"}, timeout=60)
    return done.returncode


def test_health_answers_without_a_token_with_the_versions_and_a_writable_store(served):
    url, store = served
    answer = httpx.get(url + "/health", timeout=30)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "version": metadata.version("planvalidator"),
                             "xlwings": metadata.version("xlwings"), "store_writable": True}
    assert "no-store" in answer.headers["cache-control"]   # a monitor never sees a cached one
    assert httpx.head(url + "/health", timeout=30).status_code == 200
    assert not any(token in answer.text for token in [*TOKENS.values(), OFFICE])
    assert not store.exists()   # the probe leaves nothing behind, not even the folder


def test_health_and_the_image_healthcheck_fail_while_the_store_cannot_be_written(served):
    """The fault: a file where the store folder should be (no Submit could be stored, even by
    root); health is checked on every request, so it recovers when the fault is removed."""
    url, store = served
    assert healthcheck(url) == 0
    store.write_text("not a folder")
    try:
        answer = httpx.get(url + "/health", timeout=30)
        assert answer.status_code == 503
        assert answer.json()["store_writable"] is False
        assert healthcheck(url) == 1
    finally:
        store.unlink()
    assert httpx.get(url + "/health", timeout=30).status_code == 200
    assert healthcheck(url) == 0


# ---- systemd and the proxy -----------------------------------------------------------------------

def unit_values(key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines()
            if line.startswith(f"{key}=")]


def test_the_systemd_unit_verifies_and_is_hardened(tmp_path):
    """`systemd-analyze verify` with ExecStart pointing at this environment's planvalidator
    (the unit's own path exists only after the install the docs describe); any message fails.
    Without systemd-analyze the test is skipped, except in CI (CI=true): .ci/run installs it."""
    if shutil.which("systemd-analyze") is None:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail("systemd-analyze is not installed; CI must install systemd (.ci/run does)")
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install -y systemd)")
    installed = Path(sys.executable).parent / "planvalidator"
    [exec_start] = unit_values("ExecStart")
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(exec_start.split()[0], str(installed)))
    done = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    security = subprocess.run(["systemd-analyze", "security", "--offline=true",
                               "--threshold=20", unit], capture_output=True, text=True)
    assert security.returncode == 0, security.stdout[-600:]   # exposure 2.0 or less: "OK"


def test_the_unit_starts_serve_on_loopback_writing_only_the_store():
    [exec_start] = unit_values("ExecStart")
    words = shlex.split(exec_start)
    options = serve_options(["planvalidator", *words[1:]])
    assert words[0].endswith("/bin/planvalidator")
    assert options["--host"] == "127.0.0.1"
    [writable] = unit_values("ReadWritePaths")
    assert options["--store"].startswith(writable + "/")
    assert unit_values("ProtectSystem") == ["strict"] and unit_values("NoNewPrivileges") == ["yes"]
    assert unit_values("User") == ["planvalidator"]


def test_the_proxy_forwards_to_the_unit_with_a_body_limit_above_the_servers():
    text = (DEPLOY / "nginx.conf").read_text()
    options = serve_options(["planvalidator", *shlex.split(unit_values("ExecStart")[0])[1:]])
    assert f"proxy_pass http://{options['--host']}:{options['--port']};" in text
    [limit] = [line.split()[1].rstrip(";") for line in text.splitlines()
               if line.strip().startswith("client_max_body_size")]
    assert int(limit.rstrip("m")) * 2**20 > DEFAULT_MAX_BODY
    for header in ("Host $host", "X-Forwarded-Proto https"):
        assert f"proxy_set_header {header};" in text


def test_the_docs_install_what_the_unit_and_the_image_expect():
    """The skipped walk-through blocks of docs/addin.md can't run here; they must at least put
    things where the unit looks for them and start serve with options it has."""
    from test_docs import blocks
    page = ROOT / "docs" / "addin.md"
    vm, dropin, container = [b for b in blocks(page)
                             if b.skip and b.lang in ("bash", "ini") and "Submit" not in b.skip]
    vm_text = "\n".join(vm.body)
    [exec_start] = unit_values("ExecStart")
    venv = exec_start.split()[0].removesuffix("/bin/planvalidator")
    assert f"python3 -m venv {venv}" in vm_text
    assert f"{venv}/bin/pip install --constraint deploy/constraints.txt" in vm_text
    for path in (*unit_values("EnvironmentFile"), serve_options(
            ["planvalidator", *shlex.split(exec_start)[1:]])["--config"]):
        assert f" {path}" in vm_text, path
    assert f"install -m 0644 deploy/{UNIT.name} /etc/systemd/system/" in vm_text
    [_, started] = [line.split("=", 1)[1] for line in dropin.body if line.startswith("ExecStart=")]
    options = serve_options(["planvalidator", *shlex.split(started)[1:]])
    assert options["--port"] == "443" and "AmbientCapabilities=CAP_NET_BIND_SERVICE" in dropin.body
    assert "PrivateUsers=no" in dropin.body   # else the capability binds nothing on the host
    assert "docker build -t planvalidator-addin ." in container.body
    assert compose_service()["image"] == "planvalidator-addin"
