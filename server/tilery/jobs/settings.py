"""The job runner's settings: ``jobs.<name>`` in the server's settings."""
import dataclasses

from ..settings import SettingsGroup, setting as _setting


@dataclasses.dataclass(frozen=True)
class JobSettings(SettingsGroup):
    """Runner settings, read once when the job service is made."""

    prefix = 'jobs'

    pool_size: int = _setting(
        1, 'Jobs run at once by one server process (a conversion can take over 1 GB).')
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

    @classmethod
    def from_settings(cls, settings):
        """Read ``jobs.*`` keys from an object with ``get(key, default)``."""
        values = cls.read(settings)
        if int(values.pool_size) < 1:
            raise ValueError('jobs.pool_size must be at least 1')
        return values
