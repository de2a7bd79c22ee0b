"""Reading Flask-APScheduler's ``SCHEDULER_*`` config keys, plus tickwork's own.

Flask-APScheduler hands ``SCHEDULER_JOBSTORES`` and ``SCHEDULER_EXECUTORS`` to APScheduler
as objects or dicts. Tickwork has one store, a database, so the only job store that means
something is a SQLAlchemy one: its URL becomes tickwork's database. A memory store
(``MemoryJobStore()`` or ``{"type": "memory"}``) becomes an in-memory database
(:data:`~tickwork.store.MEMORY_URL`), fresh for each scheduler, which is what a test suite
building an app per test needs. With no job store configured, the default is the durable
file ``sqlite:///tickwork.sqlite``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tickwork.api.auth import HTTPAuth
from tickwork.engine import EngineSettings
from tickwork.exceptions import ConfigurationError
from tickwork.executors import Executor
from tickwork.origins import parse_allowed_origins
from tickwork.refs import check_patterns
from tickwork.store import MEMORY_URL

_EXECUTOR_TYPES = {
    "ThreadPoolExecutor": "threadpool",
    "ProcessPoolExecutor": "processpool",
    "AsyncIOExecutor": "asyncio",
}


@dataclass(frozen=True)
class FlaskSettings:
    """Everything the extension takes from ``app.config``, with Flask-APScheduler's defaults."""

    database_url: str | None = None
    timezone: str | None = None
    executors: dict[str, Executor | dict[str, Any]] = field(default_factory=dict)
    job_defaults: dict[str, Any] = field(default_factory=dict)
    allowed_callables: tuple[str, ...] = ()
    jobs: tuple[Mapping[str, Any], ...] = ()
    api_enabled: bool = False
    api_prefix: str = "/scheduler"
    endpoint_prefix: str = "scheduler."
    allowed_hosts: tuple[str, ...] = ("*",)
    allowed_origins: frozenset[str] = frozenset()
    auth: HTTPAuth | None = None
    api_tokens: tuple[str, ...] = ()
    metrics_enabled: bool = False
    metrics_path: str = "/metrics"
    dashboard_enabled: bool = True
    engine: EngineSettings | None = None


#: Extension attributes Flask-APScheduler lets an app set before ``init_app``, with the
#: config key that overrides each (a key present in the config wins, as there).
ATTRIBUTE_KEYS: dict[str, str] = {
    "auth": "SCHEDULER_AUTH",
    "api_enabled": "SCHEDULER_API_ENABLED",
    "api_prefix": "SCHEDULER_API_PREFIX",
    "endpoint_prefix": "SCHEDULER_ENDPOINT_PREFIX",
    "allowed_hosts": "SCHEDULER_ALLOWED_HOSTS",
}


def read_settings(
    config: Mapping[str, Any], attributes: Mapping[str, Any] | None = None
) -> FlaskSettings:
    """Translate a Flask config; unknown or unusable values raise ConfigurationError.

    :param attributes: values the app set on the extension before ``init_app`` (names of
        :data:`ATTRIBUTE_KEYS`); each is the default of its config key.
    """
    given = dict(attributes or {})
    if "SCHEDULER_API_ENABLED" not in config and "SCHEDULER_VIEWS_ENABLED" in config:
        given["api_enabled"] = config["SCHEDULER_VIEWS_ENABLED"]  # Flask-APScheduler's old key
    defaults = FlaskSettings()
    config = {
        **{key: given.get(name, getattr(defaults, name)) for name, key in ATTRIBUTE_KEYS.items()},
        **config,
    }
    prefix = config.get("SCHEDULER_API_PREFIX", "/scheduler")
    if not isinstance(prefix, str) or not prefix.strip("/"):
        raise ConfigurationError(
            f"SCHEDULER_API_PREFIX must be a path such as '/scheduler', got {prefix!r}"
        )
    return FlaskSettings(
        database_url=config.get("SCHEDULER_DATABASE_URL")
        or _url_from_jobstores(config.get("SCHEDULER_JOBSTORES")),
        timezone=_zone_name(config.get("SCHEDULER_TIMEZONE")),
        executors=_executors(config.get("SCHEDULER_EXECUTORS") or {}),
        job_defaults=dict(config.get("SCHEDULER_JOB_DEFAULTS") or {}),
        allowed_callables=check_patterns(
            config.get("SCHEDULER_ALLOWED_CALLABLES") or (), "SCHEDULER_ALLOWED_CALLABLES"
        ),
        jobs=tuple(config.get("SCHEDULER_JOBS") or config.get("JOBS") or ()),
        api_enabled=bool(config["SCHEDULER_API_ENABLED"]),
        api_prefix=prefix,
        endpoint_prefix=config.get("SCHEDULER_ENDPOINT_PREFIX", "scheduler.") or "",
        allowed_hosts=_allowed_hosts(config["SCHEDULER_ALLOWED_HOSTS"]),
        allowed_origins=parse_allowed_origins(
            config.get("SCHEDULER_ALLOWED_ORIGINS") or (), "SCHEDULER_ALLOWED_ORIGINS"
        ),
        auth=_auth(config["SCHEDULER_AUTH"]),
        api_tokens=tuple(config.get("SCHEDULER_API_TOKENS") or ()),
        metrics_enabled=bool(config.get("SCHEDULER_METRICS_ENABLED", False)),
        metrics_path=config.get("SCHEDULER_METRICS_PATH") or "/metrics",
        dashboard_enabled=bool(config.get("SCHEDULER_DASHBOARD_ENABLED", True)),
        engine=_engine(config.get("SCHEDULER_ENGINE")),
    )


def _allowed_hosts(value: object) -> tuple[str, ...]:
    """``SCHEDULER_ALLOWED_HOSTS``: host names that may start the scheduler; ``["*"]`` is any
    host and ``[]`` none (as in Flask-APScheduler)."""
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ConfigurationError(
            f"SCHEDULER_ALLOWED_HOSTS must be a list of host names such as ['*'], got {value!r}",
            field="SCHEDULER_ALLOWED_HOSTS",
        )
    if not all(isinstance(host, str) for host in value):
        raise ConfigurationError(
            f"SCHEDULER_ALLOWED_HOSTS must hold host names (strings), got {value!r}",
            field="SCHEDULER_ALLOWED_HOSTS",
        )
    return tuple(host.lower() for host in value)


def _auth(value: object) -> HTTPAuth | None:
    """``SCHEDULER_AUTH``: an object that can read credentials, or None.

    Anything else would leave the API open while looking protected, so it is an error.
    """
    if value is None:
        return None
    if not all(
        callable(getattr(value, method, None))
        for method in ("get_authorization", "get_authenticate_header")
    ):
        raise ConfigurationError(
            "SCHEDULER_AUTH must be an auth scheme such as tickwork.flask.HTTPBasicAuth() "
            f"(with get_authorization and get_authenticate_header), got {value!r}",
            field="SCHEDULER_AUTH",
        )
    return value  # type: ignore[return-value]


def _engine(value: object) -> EngineSettings | None:
    """``SCHEDULER_ENGINE``: an :class:`EngineSettings` or a dict of its fields."""
    if value is None or isinstance(value, EngineSettings):
        return value
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"SCHEDULER_ENGINE must be a dict such as {{'shutdown_grace': 30}}, got {value!r}"
        )
    try:
        return EngineSettings(**value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"SCHEDULER_ENGINE: {exc}") from None


def _url_from_jobstores(jobstores: Mapping[str, Any] | None) -> str | None:
    if not jobstores:
        return None
    extra = sorted(set(jobstores) - {"default"})
    if extra:
        raise ConfigurationError(
            f"SCHEDULER_JOBSTORES {extra} unsupported: tickwork keeps every job in one "
            "database, the 'default' store"
        )
    store = jobstores.get("default")
    if isinstance(store, Mapping):
        kind = store.get("type") or store.get("class")
        if kind == "memory":
            return MEMORY_URL
        if kind == "sqlalchemy" and store.get("url"):
            return str(store["url"])
        if kind == "sqlalchemy" and store.get("engine") is not None:
            return _engine_url(store["engine"])
        raise ConfigurationError(f"SCHEDULER_JOBSTORES['default'] is not usable: {store!r}")
    kind = type(store).__name__
    if kind == "MemoryJobStore":
        return MEMORY_URL
    if kind == "SQLAlchemyJobStore":
        return _engine_url(getattr(store, "engine", None))
    raise ConfigurationError(
        f"SCHEDULER_JOBSTORES['default'] must be a SQLAlchemy job store, got {store!r}"
    )


def _engine_url(engine: Any) -> str:
    return str(engine.url.render_as_string(hide_password=False))


def _zone_name(zone: object) -> str | None:
    """An IANA name from a string, a ZoneInfo or a pytz zone (which APScheduler 3 used)."""
    if zone is None or isinstance(zone, str):
        return zone
    name = getattr(zone, "key", None) or getattr(zone, "zone", None)
    if not isinstance(name, str):
        raise ConfigurationError(f"SCHEDULER_TIMEZONE must name an IANA zone, got {zone!r}")
    return name


def _executors(specs: Mapping[str, Any]) -> dict[str, Executor | dict[str, Any]]:
    """Accept tickwork executors, dicts, and APScheduler's pool executor instances."""
    executors: dict[str, Executor | dict[str, Any]] = {}
    for name, spec in specs.items():
        if type(spec).__module__.startswith("apscheduler.executors"):
            kind = _EXECUTOR_TYPES.get(type(spec).__name__)
            if kind is None:
                raise ConfigurationError(f"executor {name!r}: {type(spec).__name__} unsupported")
            translated: dict[str, Any] = {"type": kind}
            workers = getattr(getattr(spec, "_pool", None), "_max_workers", None)
            if isinstance(workers, int):
                translated["max_workers"] = workers
            executors[name] = translated
        else:
            executors[name] = spec
    return executors
