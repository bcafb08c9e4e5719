"""Server settings: defaults, then a TOML file, then TILERY_* environment, then CLI flags."""
import dataclasses
import os
import tomllib


@dataclasses.dataclass
class Settings:
    """Everything the server reads at start-up; plugin settings live in ``extra``."""

    data_dir: str = './tilery-data'
    host: str = '127.0.0.1'
    port: int = 8080
    mongo_uri: str = None  # None: start the embedded SecantusDB under data_dir
    database: str = 'tilery'
    debug: bool = False
    thread_pool: int = 32
    workers: int = 1  # server processes sharing the port
    token_days: float = 30.0
    auth_cache_seconds: float = 5.0  # how long a token->user lookup is reused in-process
    min_password_length: int = 6
    # request bounds: bytes of a JSON body (a BSON document holds 16 MB; annotation bodies
    # have their own annotation.max_upload_bytes), nesting depth of any JSON a client
    # sends (bodies, json parameters, annotation files), bytes of a form-encoded body,
    # and seconds a client may stay silent mid-request before it is answered 408
    max_json_body: int = 16 << 20
    max_json_depth: int = 64
    max_form_body: int = 1 << 20
    socket_timeout: float = 30.0
    request_head_timeout: float = 10.0  # seconds a request's line and headers may take
    max_upload_size: int = 0  # 0: no limit
    upload_stale_days: float = 7.0  # unfinished uploads untouched this long are dropped at start
    cors_origins: tuple = ()
    web_client_dir: str = None  # None: web_client/dist beside the package, when built
    import_roots: tuple = ()  # server folders admins may import from (empty: any)
    # Safe to share (issue 8). download_origin: e.g. 'https://usercontent.example.org',
    # another host name proxied to this same server; inline downloads of HTML/SVG/script
    # files are served only on requests to that host (None: always as attachments).
    download_origin: str = None
    # Sign-in throttling: after login_max_failures wrong passwords for one account (from
    # any address) or login_address_max_failures from one client address (any accounts),
    # each within login_failure_window seconds of the last, sign-ins are refused (429)
    # for login_lockout_seconds, doubling at each further failure up to the maximum.
    login_max_failures: int = 5
    login_address_max_failures: int = 20
    login_failure_window: float = 900.0
    login_lockout_seconds: float = 30.0
    login_lockout_max_seconds: float = 900.0
    trusted_proxies: tuple = ()  # peers whose X-Forwarded-For names the client (IPs/CIDRs)
    audit_days: float = 365.0  # audit log entries older than this are dropped (0: never)
    audit_file: str = None  # also append each audit entry to this file as a JSON line
    plugins: tuple = None  # None: every installed plugin
    # on SIGTERM, requests in flight may finish for this many seconds; the process is
    # gone a few seconds later whatever it is waiting for (systemd waits 90 s, k8s 30 s)
    shutdown_grace: float = 4.0
    # operating: caches, logs, metrics (see README, "Operating Tilery")
    auth_cache_size: int = 10000  # token->user lookups kept (least recently used go first)
    listing_cache_rows: int = 200000  # child rows the listing cache holds, all folders in all
    upload_hasher_cache_size: int = 256  # unfinished uploads whose checksum state is kept
    access_log: str = '-'  # one line a request: '-' stdout, a file path, or '' for none
    access_log_format: str = 'combined'  # Combined Log Format (+ microseconds), or 'json'
    access_log_max_bytes: int = 0  # rotate the file at this size (0: reopen after logrotate)
    access_log_backups: int = 5  # rotated files kept (with access_log_max_bytes)
    metrics_token: str = ''  # bearer token opening /metrics beyond localhost ('': loopback only)
    malloc_arena_max: int = 2  # glibc malloc arenas per server process (0: glibc's 8 per core)
    extra: dict = dataclasses.field(default_factory=dict)

    def get(self, key, default=None):
        """A plugin setting such as 'large_image.source_cache_size'."""
        env = os.environ.get('TILERY_' + key.upper().replace('.', '_'))
        if env is not None:
            return _coerce(env, default)
        return self.extra.get(key, default)

    @classmethod
    def load(cls, path=None, **overrides):
        """Settings from an optional TOML file, TILERY_* variables and explicit overrides."""
        values = _read_toml(path) if path else {}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for name, field in fields.items():
            env = os.environ.get('TILERY_' + name.upper())
            if env is not None and name != 'extra':
                values[name] = _coerce(env, field.default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ('cors_origins', 'import_roots', 'plugins', 'trusted_proxies'):
            if isinstance(values.get(name), str):
                values[name] = tuple(v.strip() for v in values[name].split(',') if v.strip())
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError('Unknown settings: %s' % ', '.join(sorted(unknown)))
        return cls(**values)


def _read_toml(path):
    """The settings of a TOML file; ``[plugins.<name>]`` sections go into ``extra``."""
    with open(path, 'rb') as fh:
        values = tomllib.load(fh)
    extra = values.pop('plugins', {}) if isinstance(values.get('plugins'), dict) else {}
    values['extra'] = {'%s.%s' % (p, k): v for p, section in extra.items()
                       for k, v in section.items()}
    return values


def _coerce(raw, like):
    if isinstance(like, bool):
        return raw.lower() in ('1', 'true', 'yes', 'on')
    if isinstance(like, int) and not isinstance(like, bool):
        return int(raw)
    if isinstance(like, float):
        return float(raw)
    return raw


def setting(default, meaning):
    """A dataclass field that is also a documented server setting."""
    return dataclasses.field(default=default, metadata={'doc': meaning})


class SettingsGroup:
    """Base of frozen dataclasses holding one plugin's ``<prefix>.<name>`` settings."""

    prefix = ''

    @classmethod
    def read(cls, settings, **extra):
        """The group's values from an object with ``get(key, default)``, plus ``extra``."""
        return cls(**{f.name: settings.get('%s.%s' % (cls.prefix, f.name), f.default)
                      for f in dataclasses.fields(cls) if 'doc' in f.metadata}, **extra)

    @classmethod
    def declared(cls):
        """{'<prefix>.<name>': (default, meaning)}, as plugins declare their settings."""
        return {'%s.%s' % (cls.prefix, f.name): (f.default, f.metadata['doc'])
                for f in dataclasses.fields(cls) if 'doc' in f.metadata}
