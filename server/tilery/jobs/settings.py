"""The job runner's settings: ``jobs.<name>`` in the server's settings."""
import dataclasses

from ..settings import SettingsGroup, setting as _setting

# kombu's transports for redis and RabbitMQ, the brokers Tilery is tested with
BROKER_SCHEMES = ('redis', 'rediss', 'amqp', 'amqps', 'pyamqp')


@dataclasses.dataclass(frozen=True)
class JobSettings(SettingsGroup):
    """Runner settings, read once when the job service is made."""

    prefix = 'jobs'

    pool_size: int = _setting(
        1, 'Jobs run at once by one server process, or by one `tilery worker` unless '
           '--concurrency says (a conversion can take over 1 GB).')
    heartbeat_seconds: float = _setting(
        10.0, 'How often a server marks its queued and running jobs as alive.')
    stale_seconds: float = _setting(
        60.0, "A server whose jobs' heartbeat is older than this is taken for dead.")
    flush_seconds: float = _setting(
        1.0, 'How often a running job writes its progress and log lines.')
    max_restarts: int = _setting(
        1, 'How often a job that was running when its server died is run again.')
    log_max_lines: int = _setting(1000, 'Log lines a job keeps (the last ones).')
    cancel_wait_seconds: float = _setting(
        5.0, 'How long a cancel waits for a running job to stop before answering.')
    # Celery (see broker.py): without a broker URL every server runs its own jobs
    broker_url: str = _setting(
        '', "Celery broker (redis://host:6379/0, or amqp://user:password@host:5672// for "
            "RabbitMQ) that sends jobs to `tilery worker` processes; '' runs them in the "
            'server processes.')
    large_input_bytes: int = _setting(
        1 << 30, 'Jobs reading more than this many bytes (conversions: the source file) go '
                 "to the broker's `large` queue, the others to `default`.")
    heavy_types: tuple = _setting(
        (), 'Job types that always go to the `large` queue.')

    @classmethod
    def from_settings(cls, settings):
        """Read ``jobs.*`` keys from an object with ``get(key, default)``."""
        values = cls.read(settings)
        if int(values.pool_size) < 1:
            raise ValueError('jobs.pool_size must be at least 1')
        scheme = values.broker_url.split('://', 1)[0] if '://' in values.broker_url else None
        if values.broker_url and scheme not in BROKER_SCHEMES:
            raise ValueError('jobs.broker_url must start with one of %s, not %r' % (
                ', '.join('%s://' % s for s in BROKER_SCHEMES), scheme or 'a URL without one'))
        return values
