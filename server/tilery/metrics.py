"""Prometheus metrics: requests by route, jobs, cache hits, database round trips.

Each App has its own registry (no module-level metrics: two apps in one test process
must not share counters). Labels are bounded and carry no user data: a request is
labelled with its route's declared pattern (``item/:id/tiles/zxy/:z/:x/:y``), never its
raw path; unmatched API paths count as ``unmatched``.

With ``tilery serve --workers N`` the workers share one port, so a scrape reaches one
of them at random. The parent then sets ``PROMETHEUS_MULTIPROC_DIR`` for its workers
(prometheus_client's multiprocess mode): each worker writes its values to memory-mapped
files there and every scrape sums them, so one scrape sees every process.
"""
import hmac
import ipaddress
import os

import prometheus_client
import pymongo.monitoring
from prometheus_client import multiprocess

MULTIPROC_ENV = 'PROMETHEUS_MULTIPROC_DIR'
HTTP_METHODS = frozenset(('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'))
# seconds: a tile takes ~1-5 ms, a listing ~10-50 ms, an upload or a region up to seconds
REQUEST_BUCKETS = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30)
JOB_BUCKETS = (.1, .5, 1, 5, 10, 30, 60, 300, 900, 3600)
DB_BUCKETS = (.0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1, 5)


class CacheStats:
    """Hit and miss counters of one named cache, handed to the cache that counts them."""

    __slots__ = ('hit', 'miss')

    def __init__(self, hits, misses):
        self.hit = hits.inc
        self.miss = misses.inc


class Metrics:
    """The metrics of one App, and the WSGI answer to a scrape."""

    def __init__(self, token=''):
        self.token = token or ''
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = prometheus_client.CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = prometheus_client.Counter(
            'tilery_http_requests', 'HTTP requests answered, by route pattern and status class',
            ('method', 'route', 'status'), registry=r)
        self.request_seconds = prometheus_client.Histogram(
            'tilery_http_request_duration_seconds',
            'Time to answer a request (until its body is handed to the server), by route',
            ('method', 'route'), buckets=REQUEST_BUCKETS, registry=r)
        self.jobs_queued = prometheus_client.Gauge(
            'tilery_jobs_queued', "Jobs waiting in this server's pool", ('type',),
            multiprocess_mode='livesum', registry=r)
        self.job_seconds = prometheus_client.Histogram(
            'tilery_job_duration_seconds', 'Time jobs ran, by type and final status',
            ('type', 'status'), buckets=JOB_BUCKETS, registry=r)
        self.cache_hits = prometheus_client.Counter(
            'tilery_cache_hits', 'Lookups answered from an in-process cache', ('cache',),
            registry=r)
        self.cache_misses = prometheus_client.Counter(
            'tilery_cache_misses', 'Lookups an in-process cache could not answer',
            ('cache',), registry=r)
        self.db_commands = prometheus_client.Histogram(
            'tilery_db_command_duration_seconds',
            'Database round trips (MongoDB commands) and their time, by command and outcome',
            ('command', 'outcome'), buckets=DB_BUCKETS, registry=r)
        self.db_listener = CommandListener(self.db_commands)
        self._request_children = {}

    def cache(self, name):
        """The hit/miss counters a cache named ``name`` updates."""
        return CacheStats(self.cache_hits.labels(name), self.cache_misses.labels(name))

    def observe_request(self, method, route, status, seconds):
        # labels() costs ~10 us a call, a third of a tile's overhead here: the labelled
        # children are kept (routes, methods and status classes are few and fixed)
        if method not in HTTP_METHODS:  # any token is a method to HTTP: keep labels few
            method = 'other'
        key = (method, route, status // 100)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(method, route, '%dxx' % key[2]).inc,
                self.request_seconds.labels(method, route).observe)
        children[0]()
        children[1](seconds)

    def job_queued(self, job_type, count=1):
        self.jobs_queued.labels(job_type).inc(count)

    def job_ended(self, job_type, status, seconds):
        self.job_seconds.labels(job_type, status).observe(seconds)

    def exposition(self):
        """The text a scrape reads: this process's registry, or every worker's files."""
        registry = self.registry
        if self.multiprocess:
            registry = prometheus_client.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return prometheus_client.generate_latest(registry)

    def allowed(self, environ):
        """Loopback callers may scrape; others only with ``metrics_token`` as a bearer token.

        The metrics hold no user data, but route counts and timings still describe
        the site's use: they are not for the whole network by default.
        """
        if self.token:
            given = environ.get('HTTP_AUTHORIZATION', '')
            if given.startswith('Bearer ') and hmac.compare_digest(
                    given[7:].strip().encode(), self.token.encode()):
                return True
        try:
            return ipaddress.ip_address(environ.get('REMOTE_ADDR', '')).is_loopback
        except ValueError:
            return False


class MetricsApp:
    """The WSGI application at /metrics."""

    def __init__(self, metrics):
        self.metrics = metrics

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '') not in ('', '/'):
            return _json(start_response, 404, 'No such page: /metrics%s.' % (
                environ.get('PATH_INFO')), 'rest')
        if environ['REQUEST_METHOD'] not in ('GET', 'HEAD'):
            return _json(start_response, 405, 'Only GET reads /metrics.', 'rest')
        if not self.metrics.allowed(environ):
            return _json(start_response, 403, 'Metrics are served to localhost, or with the '
                         'metrics_token setting as a bearer token.', 'access')
        body = self.metrics.exposition()
        start_response('200 OK', [('Content-Type', prometheus_client.CONTENT_TYPE_LATEST),
                                  ('Content-Length', str(len(body)))])
        return [body] if environ['REQUEST_METHOD'] == 'GET' else []


def _json(start_response, status, message, kind):
    import orjson
    body = orjson.dumps({'message': message, 'type': kind})
    reasons = {403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed'}
    start_response('%d %s' % (status, reasons[status]), [
        ('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
    return [body]


class CommandListener(pymongo.monitoring.CommandListener):
    """Times every database command pymongo sends (one round trip each)."""

    def __init__(self, histogram):
        self.histogram = histogram

    def started(self, event):
        pass

    def succeeded(self, event):
        self.histogram.labels(event.command_name, 'ok').observe(event.duration_micros / 1e6)

    def failed(self, event):
        self.histogram.labels(event.command_name, 'error').observe(event.duration_micros / 1e6)


def prepare_multiprocess_dir(path):
    """An empty directory for the workers' metric files (left-overs of a past run go)."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith('.db'):
            os.remove(os.path.join(path, name))
    return path


def worker_exited(pid, path):
    """Drop a dead worker's live gauges (its counters keep counting in the sum)."""
    multiprocess.mark_process_dead(pid, path)
