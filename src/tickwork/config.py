"""The service's TOML config file: every key checked, unknown ones named.

One file describes a deployment: which database, which tasks and jobs, how the API is
served and who may call it. The same file is read by ``tickwork serve`` and by the other
commands (``tickwork --config FILE jobs list``), so a terminal sees the same database and
tasks as the server. docs/configuration.md documents every key.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tickwork.engine import EngineSettings
from tickwork.exceptions import ConfigurationError
from tickwork.origins import parse_allowed_origins
from tickwork.refs import check_patterns

#: The shortest plain password accepted in ``[auth] basic_users``.
MIN_PASSWORD_LENGTH = 12
_HASH_METHODS = ("scrypt:", "pbkdf2:")
#: Comma-separated bearer tokens added to ``[auth] tokens`` (keeps secrets out of files).
TOKENS_VARIABLE = "TICKWORK_API_TOKENS"

_TOP_KEYS = frozenset(
    {
        "database",
        "app",
        "timezone",
        "allowed_callables",
        "tasks",
        "server",
        "auth",
        "executors",
        "job_defaults",
        "engine",
        "jobs",
    }
)
_SERVER_KEYS = frozenset(
    {
        "host",
        "port",
        "api_prefix",
        "threads",
        "metrics",
        "metrics_public",
        "allow_insecure",
        "allowed_origins",
    }
)
_AUTH_KEYS = frozenset({"tokens", "basic_users"})
_ENGINE_KEYS = frozenset(f.name for f in fields(EngineSettings))
#: Engine settings where ``false`` in the file means None: keep history / wait for ever.
_UNBOUNDED_ENGINE_KEYS = frozenset({"run_retention", "shutdown_grace"})


@dataclass(frozen=True)
class ServiceConfig:
    """A parsed config file (or the defaults, when there is none).

    ``None`` means "not set here": command-line options and the built-in defaults apply.
    """

    database: str | None = None
    app: str | None = None
    timezone: str | None = None
    allowed_callables: tuple[str, ...] = ()
    tasks: dict[str, str] = field(default_factory=dict)
    host: str | None = None
    port: int | None = None
    api_prefix: str = "/scheduler"
    threads: int = 8
    metrics: bool = True
    metrics_public: bool = False
    allow_insecure: bool = False
    allowed_origins: frozenset[str] = frozenset()
    tokens: tuple[str, ...] = ()
    basic_users: dict[str, str] = field(default_factory=dict)
    executors: dict[str, dict[str, Any]] = field(default_factory=dict)
    job_defaults: dict[str, Any] = field(default_factory=dict)
    engine: EngineSettings | None = None
    jobs: tuple[dict[str, Any], ...] = ()
    source: Path | None = None

    @property
    def builds_scheduler(self) -> tuple[str, ...]:
        """Keys set here that only apply when the service builds the scheduler itself."""
        given = {
            "database": self.database is not None,
            "timezone": self.timezone is not None,
            "executors": bool(self.executors),
            "job_defaults": bool(self.job_defaults),
            "engine": self.engine is not None,
        }
        return tuple(key for key, is_set in given.items() if is_set)

    def all_tokens(self) -> tuple[str, ...]:
        """Tokens from the file plus those of ``$TICKWORK_API_TOKENS``."""
        extra = os.environ.get(TOKENS_VARIABLE, "")
        return self.tokens + tuple(token.strip() for token in extra.split(",") if token.strip())


def load_config(path: str | Path | None) -> ServiceConfig:
    """Read and check a config file; ``None`` gives the defaults.

    :raises ConfigurationError: the file is missing, not TOML, or has a bad or unknown key.
    """
    if path is None:
        return ServiceConfig()
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {source}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {source} is not valid TOML: {exc}") from None
    try:
        return parse_config(data, source)
    except ConfigurationError as exc:
        raise ConfigurationError(f"config file {source}: {exc}") from None


def parse_config(data: Mapping[str, Any], source: Path | None = None) -> ServiceConfig:
    """Check a decoded config; errors name the offending key as ``section.key``."""
    _no_unknown(data, _TOP_KEYS, "")
    server = _table(data, "server")
    auth = _table(data, "auth")
    _no_unknown(server, _SERVER_KEYS, "server.")
    _no_unknown(auth, _AUTH_KEYS, "auth.")
    executors = _table(data, "executors")
    for name, spec in executors.items():
        if not isinstance(spec, dict):
            raise ConfigurationError(f"executors.{name} must be a table such as {{type = ...}}")
    jobs = data.get("jobs", [])
    if not isinstance(jobs, list) or not all(isinstance(job, dict) for job in jobs):
        raise ConfigurationError("jobs must be an array of tables ([[jobs]])")
    port = _typed(server, "port", int, "server.")
    if port is not None and not 0 <= port <= 65535:
        raise ConfigurationError(f"server.port must be from 0 to 65535, got {port}")
    threads = _typed(server, "threads", int, "server.")
    if threads is not None and threads < 1:
        raise ConfigurationError(f"server.threads must be at least 1, got {threads}")
    return ServiceConfig(
        database=_typed(data, "database", str),
        app=_typed(data, "app", str),
        timezone=_typed(data, "timezone", str),
        allowed_callables=check_patterns(
            _strings(data, "allowed_callables", ""), "allowed_callables"
        ),
        tasks=_string_table(data, "tasks", ""),
        host=_typed(server, "host", str, "server."),
        port=port,
        api_prefix=_typed(server, "api_prefix", str, "server.") or "/scheduler",
        threads=threads or 8,
        metrics=_flag(server, "metrics", True),
        metrics_public=_flag(server, "metrics_public", False),
        allow_insecure=_flag(server, "allow_insecure", False),
        allowed_origins=parse_allowed_origins(
            server.get("allowed_origins", []), "server.allowed_origins"
        ),
        tokens=_strings(auth, "tokens", "auth."),
        basic_users=check_basic_users(_string_table(auth, "basic_users", "auth.")),
        executors={name: dict(spec) for name, spec in executors.items()},
        job_defaults=dict(_table(data, "job_defaults")),
        engine=_engine(_table(data, "engine")),
        jobs=tuple(dict(job) for job in jobs),
        source=source,
    )


def _engine(table: Mapping[str, Any]) -> EngineSettings | None:
    if not table:
        return None
    _no_unknown(table, _ENGINE_KEYS, "engine.")
    options = dict(table)
    for key in _UNBOUNDED_ENGINE_KEYS:
        if options.get(key) is False:
            options[key] = None  # TOML has no null: false means no limit
    for key, value in options.items():
        if key in _UNBOUNDED_ENGINE_KEYS and value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigurationError(f"engine.{key} must be a number, got {value!r}")
    try:
        return EngineSettings(**options)
    except ValueError as exc:
        raise ConfigurationError(f"engine: {exc}") from None


def _no_unknown(table: Mapping[str, Any], known: frozenset[str], prefix: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigurationError(
            f"unknown key {prefix}{unknown[0]}; known keys: {', '.join(sorted(known))}"
        )


def _table(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigurationError(f"{key} must be a table ([{key}])")
    return value


def _typed(table: Mapping[str, Any], key: str, kind: type, prefix: str = "") -> Any:
    value = table.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ConfigurationError(f"{prefix}{key} must be a {kind.__name__}, got {value!r}")
    return value


def _flag(table: Mapping[str, Any], key: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigurationError(f"server.{key} must be true or false, got {value!r}")
    return value


def _strings(table: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigurationError(f"{prefix}{key} must be an array of strings")
    return tuple(value)


def _string_table(table: Mapping[str, Any], key: str, prefix: str) -> dict[str, str]:
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise ConfigurationError(f"{prefix}{key} must be a table of strings")
    return dict(value)


def is_password_hash(value: str) -> bool:
    return value.startswith(_HASH_METHODS)


def check_basic_users(users: Mapping[str, str]) -> dict[str, str]:
    """Refuse users that could never sign in or that anyone could guess.

    :raises ConfigurationError: naming the user as ``auth.basic_users.NAME``.
    """
    for name, value in users.items():
        key = f"auth.basic_users.{name}"
        if not name or ":" in name:
            raise ConfigurationError(
                f"{key}: a user name must be non-empty and without ':' (HTTP Basic splits "
                "user and password at the first ':')"
            )
        if is_password_hash(value):
            if value.count("$") != 2 or not all(value.split("$")):
                raise ConfigurationError(f"{key}: not a complete Werkzeug hash (method$salt$hash)")
        elif len(value) < MIN_PASSWORD_LENGTH:
            shown = "empty" if not value else f"only {len(value)} characters long"
            raise ConfigurationError(
                f"{key}: the password is {shown}; use at least {MIN_PASSWORD_LENGTH} "
                "characters, or a hash from werkzeug.security.generate_password_hash"
            )
    return dict(users)
