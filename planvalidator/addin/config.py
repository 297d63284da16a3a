"""The add-in server's config file, the errors a request can be refused with, and the runtime
(config and store) the scripts read.

Config file (YAML, `--config FILE`):

    tokens:                    # token → agency code, or "office" (may do anything)
      "Zq8…at least 16 characters…": DOT
      "sha256:9f86d08…": BCFD  # or the token's SHA-256, so the file holds no secrets
      "Kd3…": office
    store: /srv/planvalidator/submissions   # optional; --store wins
    timezone: America/New_York              # optional: the city's, for times shown to people
    hostname: plans.example.gov             # optional: public host name for the manifest URLs
    tls:                                    # optional: serve HTTPS directly (Office needs HTTPS;
      certfile: cert.pem                    #   or run behind a TLS proxy and set hostname)
      keyfile: key.pem
    limits:                                 # optional
      max_body_bytes: 8388608
      max_sheets: 250
      max_cells: 1000000
    processes: 2                  # optional: scripts run in this many worker processes
                                  #   (default: one per CPU), never on the event loop
    time_limit: 60                # optional: seconds a script may run before it is stopped
    audit_log: /var/log/planvalidator/audit.jsonl   # optional: one JSON line per request
                                                    #   (default: stderr); see audit.py
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AddinError, ConfigError
from ..read.payload import Limits

OFFICE = "office"
MIN_TOKEN_LENGTH = 16
DEFAULT_MAX_BODY = 8 * 2**20    # a 20,000-row plan sheet is ~5 MB of JSON
DEFAULT_TIME_LIMIT = 60.0       # a real plan takes well under 1 s; the heaviest body the
                                # limits let in, over a minute on 2 busy CPUs
ENV_CONFIG, ENV_STORE = "PLANVALIDATOR_CONFIG", "PLANVALIDATOR_STORE"


# ---- errors: what a request can be refused with ------------------------------------------------

def _refusal(name: str, status: int, doc: str) -> type[AddinError]:
    """An AddinError sent with the HTTP `status`; a named class, so workers can pickle it."""
    return type(name, (AddinError,), {"status": status, "__doc__": doc, "__module__": __name__})


BadRequest = _refusal("BadRequest", 400, "The request or its workbook is not one to act on.")
Unauthorized = _refusal("Unauthorized", 401, "No token, or one the config does not hold.")
Forbidden = _refusal("Forbidden", 403, "The token's agency may not act on this plan.")
NotFound = _refusal("NotFound", 404, "No such command, plan or submission on this server.")
Conflict = _refusal("Conflict", 409, "The workbook holds something the add-in must not overwrite.")
Unavailable = _refusal("Unavailable", 503, "Busy, out of time, or the store failed; try later.")


# ---- config ------------------------------------------------------------------------------------

@dataclass
class Config:
    tokens: dict[str, str] = field(default_factory=dict)   # SHA-256 hex of a token → principal
    store: Path | None = None
    hostname: str | None = None
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    limits: Limits = field(default_factory=Limits)
    timezone: str = "America/New_York"
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    time_limit: float = DEFAULT_TIME_LIMIT
    audit_log: Path | None = None
    source: str = ""

    def principal(self, token: str) -> str | None:
        """Who holds `token`: an agency code, OFFICE, or None. Every configured token is
        compared, in constant time, whichever matches."""
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
        found = None
        for known, principal in self.tokens.items():
            if hmac.compare_digest(known, digest):
                found = principal
        return found


def load_config(path: Path | str | None) -> Config:
    """Read the config file (None: no tokens, so every script call is refused)."""
    if path is None or str(path) == "":
        return Config()
    import yaml
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ConfigError(f"The config file {path} can't be read ({e.strerror or e}).") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"The config file {path} is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected keys such as 'tokens' and 'store'.")
    keys = ("tokens", "store", "hostname", "tls", "limits", "timezone", "processes", "time_limit",
            "audit_log")
    unknown = set(doc) - set(keys)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                          f"expected {', '.join(keys)}.")
    config = Config(source=str(path))
    agencies = _known_agencies()
    tokens = doc.get("tokens") or {}
    if not isinstance(tokens, dict):
        raise ConfigError(f"{path}: 'tokens' must map each token to an agency code or 'office'.")
    for token, who in tokens.items():
        token, who = str(token), str(who).strip()
        principal = OFFICE if who.casefold() == OFFICE else who.upper()
        if principal != OFFICE and principal not in agencies:
            raise ConfigError(f"{path}: the token for '{who}' names no known agency "
                              f"(agency codes: {', '.join(sorted(agencies))}, or 'office').")
        if token.startswith("sha256:"):
            digest = token[7:].strip().lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ConfigError(f"{path}: the token for {principal} starts with 'sha256:' "
                                  "but is not a SHA-256 hex digest.")
        else:
            if len(token) < MIN_TOKEN_LENGTH:
                raise ConfigError(f"{path}: the token for {principal} is too short; use at "
                                  f"least {MIN_TOKEN_LENGTH} random characters "
                                  f"(e.g. python -c \"import secrets; print(secrets.token_urlsafe(24))\").")
            digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        if digest in config.tokens:
            raise ConfigError(f"{path}: the same token is listed twice.")
        config.tokens[digest] = principal
    if doc.get("store") is not None:
        config.store = (path.parent / str(doc["store"])).resolve()
    if doc.get("timezone") is not None:
        config.timezone = _timezone(path, str(doc["timezone"]).strip())
    if doc.get("hostname") is not None:
        config.hostname = str(doc["hostname"]).strip()
    tls = doc.get("tls") or {}
    if not isinstance(tls, dict) or set(tls) - {"certfile", "keyfile"} or \
            (tls and not {"certfile", "keyfile"} <= set(tls)):
        raise ConfigError(f"{path}: 'tls' needs exactly 'certfile' and 'keyfile'.")
    if tls:
        config.tls_certfile = (path.parent / str(tls["certfile"])).resolve()
        config.tls_keyfile = (path.parent / str(tls["keyfile"])).resolve()
        for file in (config.tls_certfile, config.tls_keyfile):
            if not file.is_file():
                raise ConfigError(f"{path}: the TLS file {file} does not exist.")
    limits = doc.get("limits") or {}
    if not isinstance(limits, dict):
        raise ConfigError(f"{path}: 'limits' must be a mapping.")
    names = {"max_body_bytes", "max_sheets", "max_rows", "max_columns", "max_cells"}
    for key, value in limits.items():
        if key not in names or not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{path}: limits.{key} is not a known limit with a positive whole "
                              f"number (known: {', '.join(sorted(names))}).")
        if key == "max_body_bytes":
            config.max_body_bytes = value
        else:
            setattr(config.limits, key, value)
    for key, kind in (("processes", int), ("time_limit", (int, float))):
        value = doc.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{path}: {key} must be a positive number.")
        setattr(config, key, value)
    if doc.get("audit_log") is not None:
        config.audit_log = (path.parent / str(doc["audit_log"])).resolve()
    return config


def _timezone(path: Path, name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path}: timezone '{name}' is not a time zone; use a name such as "
                          "America/New_York.") from None
    return name


def _known_agencies() -> set[str]:
    from ..schema.loader import available_years, load_schema
    return {code for year in available_years() for code in load_schema(year).agencies}


# ---- the runtime: what the scripts need to know about this server --------------------------------

@dataclass
class Runtime:
    config: Config
    store: Path


_runtime: Runtime | None = None


def runtime() -> Runtime:
    """This process's config and store (read from the environment that `serve` sets)."""
    global _runtime
    if _runtime is None:
        config = load_config(os.environ.get(ENV_CONFIG) or None)
        store = os.environ.get(ENV_STORE) or (config.store and str(config.store)) or "submissions"
        _runtime = Runtime(config=config, store=Path(store).resolve())
    return _runtime
