"""`planvalidator serve` for the tests: a real server in a subprocess on a free loopback port,
and what the tests send it and read back (the `server` fixture itself is in conftest.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(home: Path, tokens: dict[str, str], office: str, extra_config: str = ""):
    """Serve with `tokens` (agency → token), an office token and a fresh store in `home`;
    yields the base URL. XLWINGS_LICENSE_KEY=noncommercial: PolyForm Noncommercial."""
    config = home / "addin.yaml"
    config.write_text("tokens:\n" + "".join(f'  "{t}": {code}\n' for code, t in tokens.items())
                      + f'  "{office}": office\n' + extra_config, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial"}
    with open(home / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "planvalidator", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--store", str(home / "submissions"), "--config", str(config)],
            cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
        (home / "server.pid").write_text(str(proc.pid))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/taskpane.html", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError((home / "server.log").read_text(errors="replace"))
            time.sleep(0.2)
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


# ---- talking to the add-in as xlwings' Office.js client does ------------------------------------

INCLUDE = ["Agency", "Services", "Measures", "_planvalidator", "Validation"]
TOKENS = {code: f"{code.lower()}-token-{'x' * 20}" for code in
          ("BCFD", "BCHD", "BCRP", "BPD", "DHCD", "DOT", "DPW", "MOCFS", "OPI")}
OFFICE = "office-token-" + "y" * 24
MAX_BODY = 3 * 2**20
MAX_CELLS = 200_000


def auth(token):
    return {"Authorization": token}


def call(server, script, payload, token=OFFICE):
    return server.post(f"/xlwings/custom-scripts-call/{script}", headers=auth(token),
                       content=json.dumps(payload).encode())


def actions(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["actions"]


def shown(acts) -> dict:
    """What the task pane was handed (the planvalidatorShow callback's argument)."""
    [data] = [a["args"][1] for a in acts if a["func"] == "runMacro"
              and a["args"][0] == "planvalidatorShow"]
    return data
