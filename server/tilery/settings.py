"""Server settings: defaults, then a TOML file, then TILERY_* environment, then CLI flags.

There is one way to declare a setting: a dataclass field made with ``setting(default,
meaning)``, typed by its annotation. The core's are the fields of ``Settings``; each
plugin (and the job runner) declares its own in a ``SettingsGroup`` subclass. Values of
the wrong type, and keys nobody declared, are refused at start with the key's name.
"""
import dataclasses
import os
import tomllib
import types
import typing


def setting(default, meaning):
    """A dataclass field that is also a documented server setting."""
    if isinstance(default, (dict, list)):
        return dataclasses.field(default_factory=lambda: type(default)(default),
                                 metadata={'doc': meaning})
    return dataclasses.field(default=default, metadata={'doc': meaning})


class SettingsError(ValueError):
    """A setting nobody declared, or a value of the wrong type; names the key."""


@dataclasses.dataclass
class Settings:
    """Everything the server reads at start-up; plugin settings live in ``extra``."""

    data_dir: str = setting('./tilery-data', 'Where the embedded database, files and '
                                             'work files live.')
    host: str = setting('127.0.0.1', 'Address to listen on.')
    port: int = setting(8080, 'Port to listen on (0 picks a free one).')
    mongo_uri: str | None = setting(
        None, 'MongoDB to use; None starts the embedded SecantusDB under data_dir.')
    database: str = setting('tilery', 'Database name when mongo_uri names none.')
    debug: bool = setting(False, 'Tracebacks in error answers.')
    thread_pool: int = setting(32, 'HTTP worker threads per server process.')
    workers: int = setting(1, 'Server processes sharing the port.')
    token_days: float = setting(30.0, 'How long a sign-in token lasts.')
    auth_cache_seconds: float = setting(
        5.0, 'How long a token->user lookup is reused in-process.')
    min_password_length: int = setting(6, 'Shortest password accepted.')
    # Request bounds (a BSON document holds 16 MB; annotation bodies have their own
    # annotation.max_upload_bytes).
    max_json_body: int = setting(16 << 20, 'Largest JSON request body, in bytes.')
    max_json_depth: int = setting(
        64, 'Deepest nesting of any JSON a client sends (bodies, json parameters, '
            'annotation files).')
    max_form_body: int = setting(1 << 20, 'Largest form-encoded request body, in bytes.')
    socket_timeout: float = setting(
        30.0, 'Seconds a client may stay silent mid-request before it is answered 408.')
    request_head_timeout: float = setting(
        10.0, "Seconds a request's line and headers may take to arrive, in all.")
    max_upload_size: int = setting(0, 'Largest file upload, in bytes (0: no limit).')
    upload_stale_days: float = setting(
        7.0, 'Unfinished uploads untouched this long are dropped at start.')
    cors_origins: tuple = setting((), 'Origins allowed to call the API from a browser.')
    web_client_dir: str | None = setting(
        None, 'The built web client to serve (None: web_client/dist beside the package).')
    import_roots: tuple = setting(
        (), 'Server folders admins may import in place from (empty: any).')
    # Safe to share (issue 8).
    download_origin: str | None = setting(
        None, "Another host name proxied to this server (e.g. 'https://usercontent."
              "example.org'); inline downloads of HTML/SVG/script files are served only on "
              "requests to it (None: always as attachments).")
    # Sign-in throttling: after login_max_failures wrong passwords for one account (from
    # any address) or login_address_max_failures from one client address (any accounts),
    # each within login_failure_window seconds of the last, sign-ins are refused (429)
    # for login_lockout_seconds, doubling at each further failure up to the maximum.
    login_max_failures: int = setting(
        5, 'Wrong passwords for one account (from any address) before it is locked.')
    login_address_max_failures: int = setting(
        20, 'Wrong passwords from one client address (for IPv6, its /64) before it is '
            'locked.')
    login_failure_window: float = setting(
        900.0, 'Seconds within which a failure counts with the previous ones.')
    login_lockout_seconds: float = setting(30.0, 'First lock, in seconds.')
    login_lockout_max_seconds: float = setting(
        900.0, 'Longest lock, in seconds (locks double up to this).')
    trusted_proxies: tuple = setting(
        (), 'Peers whose X-Forwarded-For names the client (IPs or CIDRs).')
    audit_days: float = setting(
        365.0, 'Audit log entries older than this are dropped (0: never).')
    audit_file: str | None = setting(
        None, 'Also append each audit entry to this file as a JSON line.')
    plugins: tuple | None = setting(None, 'Plugins to enable (None: every installed one).')
    # On SIGTERM, requests in flight may finish for this long; the process is gone a few
    # seconds later whatever it waits for (systemd waits 90 s, k8s 30 s).
    shutdown_grace: float = setting(
        4.0, 'Seconds requests in flight may finish after SIGTERM.')
    # operating: caches, logs, metrics (see README, "Operating Tilery")
    auth_cache_size: int = setting(
        10000, 'Token->user lookups kept (least recently used go first).')
    feed_poll_interval: float = setting(
        0.1, 'How often (seconds) a process reads the change feed: other processes see '
        'access changes, revoked tokens and new annotations within about this long.')
    feed_window: float = setting(
        3600.0, 'How long (seconds) change events are kept, for streams that reconnect.')
    listing_cache_rows: int = setting(
        200000, 'Child rows the listing cache holds, all folders in all.')
    upload_hasher_cache_size: int = setting(
        256, 'Unfinished uploads whose checksum state is kept.')
    access_log: str = setting(
        '-', "One line a request: '-' stdout, a file path, or '' for none.")
    access_log_format: str = setting(
        'combined', "Combined Log Format (+ microseconds), or 'json'.")
    access_log_max_bytes: int = setting(
        0, 'Rotate the access log file at this size (0: reopen after logrotate).')
    access_log_backups: int = setting(5, 'Rotated access log files kept.')
    metrics_token: str = setting(
        '', "Bearer token opening /metrics beyond localhost ('': loopback only).")
    malloc_arena_max: int = setting(
        2, "glibc malloc arenas per server process (0: glibc's 8 per core).")
    # notification streams (issue 13): one thread writes them all (notification/hub.py)
    stream_max: int = setting(
        2000, 'Open notification streams one server process holds (more: 503).')
    stream_max_per_user: int = setting(
        20, 'Open notification streams of one user in one process (more: 429).')
    extra: dict = dataclasses.field(default_factory=dict)  # '<plugin>.<key>' -> value

    def __post_init__(self):
        for field in declared_fields(type(self)):
            value = getattr(self, field.name)
            setattr(self, field.name, check_value(field.name, value, field.type))

    def get(self, key, default=None):
        """A plugin setting such as 'large_image.source_cache_size' (``check_plugins``
        has put the TILERY_<PLUGIN>_<KEY> variables in)."""
        return self.extra.get(key, default)

    @classmethod
    def load(cls, path=None, **overrides):
        """Settings from an optional TOML file, TILERY_* variables and explicit overrides."""
        values = _read_toml(path) if path else {}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for name in fields:
            env = os.environ.get('TILERY_' + name.upper())
            if env is not None and name != 'extra':
                values[name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - set(fields)
        if unknown:
            raise SettingsError('Unknown setting%s: %s' % (
                's' if len(unknown) > 1 else '', ', '.join(sorted(unknown))))
        return cls(**values)

    def check_plugins(self, groups, installed=()):
        """Refuse plugin settings that no group declares, or of the wrong type.

        ``groups``: {prefix: SettingsGroup subclass}. Values of ``extra`` (TOML) and
        ``TILERY_<PREFIX>_<KEY>`` variables are checked; the variables are read only for
        prefixes of ``groups`` and ``installed`` plugins, because other TILERY_* names
        belong to other tools (the end-to-end harness reads TILERY_CMD and TILERY_URL).
        """
        declared = {key: kind for group in groups.values()
                    for key, kind in group.types().items()}
        for key, value in self.extra.items():
            if key not in declared:
                raise SettingsError('Unknown setting: %s (in [plugins.%s])' % (
                    key, key.split('.', 1)[0]))
            self.extra[key] = check_value(key, value, declared[key])
        prefixes = {p.upper() + '_': p for p in set(groups) | set(installed)}
        by_env = {env_name(key): key for key in declared}
        core = {'TILERY_' + f.name.upper() for f in dataclasses.fields(type(self))}
        for name, raw in os.environ.items():
            if not name.startswith('TILERY_') or name in core:
                continue
            if name in by_env:  # the environment wins over the TOML file
                self.extra[by_env[name]] = check_value(by_env[name], raw, declared[by_env[name]])
            elif any(name[7:].startswith(prefix) for prefix in prefixes):
                raise SettingsError('Unknown setting: %s (no plugin declares it)' % name)


def env_name(key):
    """The environment variable of a setting: 'large_image.x' -> TILERY_LARGE_IMAGE_X."""
    return 'TILERY_' + key.upper().replace('.', '_')


def declared_fields(cls):
    """The fields of a settings dataclass that are settings (they have a meaning)."""
    return [f for f in dataclasses.fields(cls) if 'doc' in f.metadata]


def check_value(key, value, kind):
    """``value`` as a ``kind`` (strings from the environment are converted); a
    SettingsError naming ``key`` when it is not one."""
    options = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    if value is None and type(None) in options:
        return None
    kind = next(k for k in options if k is not type(None))
    try:
        value = _converted(value, kind)
    except ValueError:
        pass
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SettingsError('Setting %s must be %s, not %r' % (
            key, _KIND_NAMES.get(kind, kind.__name__), value))
    return value


_KIND_NAMES = {str: 'a string', int: 'an integer', float: 'a number', bool: 'true or false',
               tuple: 'a list (or a comma-separated string)', dict: 'a table'}


def _converted(value, kind):
    """``value`` converted where the meaning is plain: text from the environment, a
    TOML integer for a number, a TOML array for a list."""
    if isinstance(value, str) and kind is not str:
        return _from_text(value, kind)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is tuple and isinstance(value, list):
        return tuple(value)
    return value


def _from_text(raw, kind):
    if kind is bool:
        if raw.lower() not in ('1', 'true', 'yes', 'on', '0', 'false', 'no', 'off', ''):
            raise ValueError(raw)
        return raw.lower() in ('1', 'true', 'yes', 'on')
    if kind is tuple:
        return tuple(v.strip() for v in raw.split(',') if v.strip())
    if kind in (int, float):
        return kind(raw)
    return raw


def _read_toml(path):
    """The settings of a TOML file; ``[plugins.<name>]`` sections go into ``extra``."""
    with open(path, 'rb') as fh:
        values = tomllib.load(fh)
    sections = values.pop('plugins', None)
    if isinstance(sections, dict):
        values['extra'] = {'%s.%s' % (p, k): v for p, section in sections.items()
                           for k, v in _section(p, section).items()}
    elif sections is not None:  # `plugins = [...]`: the core setting, not sections
        values['plugins'] = sections
    return values


def _section(name, section):
    if not isinstance(section, dict):
        raise SettingsError('[plugins.%s] must be a table of settings' % name)
    return section


class SettingsGroup:
    """Base of frozen dataclasses holding one plugin's ``<prefix>.<name>`` settings.

    Every field made with ``setting(default, meaning)`` is a setting; other fields are
    values the plugin passes in itself (``read(settings, **extra)``).
    """

    prefix = ''

    @classmethod
    def read(cls, settings, **extra):
        """The group's values from an object with ``get(key, default)``, plus ``extra``."""
        return cls(**{f.name: settings.get('%s.%s' % (cls.prefix, f.name), f.default)
                      for f in declared_fields(cls)}, **extra)

    @classmethod
    def declared(cls):
        """{'<prefix>.<name>': (default, meaning)}, for ``tilery settings``."""
        return {'%s.%s' % (cls.prefix, f.name): (f.default, f.metadata['doc'])
                for f in declared_fields(cls)}

    @classmethod
    def types(cls):
        """{'<prefix>.<name>': type}, to check values with."""
        return {'%s.%s' % (cls.prefix, f.name): f.type for f in declared_fields(cls)}
