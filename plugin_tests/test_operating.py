"""What an operator relies on: bounded caches, one access-log line a request, /metrics."""
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tilery.database import free_port
from tilery.jobs.service import JobService
from tilery.jobs.settings import JobSettings
from tilery.metrics import Metrics, MetricsApp
from tilery.rest.wsgi import ACCESS_LOGGER
from tilery.testing import BoundServer, TestServer, make_app

TILERY = os.path.join(os.path.dirname(sys.executable), 'tilery')


def samples(text):
    """{(name, frozenset(labels)): value} of a Prometheus exposition."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found, name, **labels):
    return sum(v for (n, ls), v in found.items()
               if n == name and set(labels.items()) <= set(ls))


@pytest.fixture
def app_with(mongo_client, db, tmp_path):
    """Make an app with some settings changed; stopped after the test."""
    apps = []

    def make(**overrides):
        app = make_app(mongo_client, db, tmp_path / 'data', **overrides)
        apps.append(app)
        return app
    yield make
    for app in apps:
        app.stop()


# -- caches
def test_listing_cache_keeps_one_version_of_a_listing_and_bounds_rows(server, admin):
    app = server.app
    folder = app.models.folder.create('work', admin, 'user', admin)
    for i in range(5):
        server.request('item', 'POST', user=admin, params={'folderId': folder['_id'],
                                                            'name': 'item %d' % i})
        # a reader pages through the folder between uploads: each change to the folder
        # must replace its cached listing, not add a copy beside the old one
        r = server.request('item', user=admin, params={'folderId': folder['_id']})
        assert r.status == 200 and len(r.json) == i + 1
    assert app.listings.info()['listings'] == 1
    assert app.listings.info()['rows'] == 1 + 5


def test_listing_cache_is_bounded_in_rows(app_with, admin):
    app = app_with(listing_cache_rows=8)
    server = TestServer(app)
    admin = app.models.user.load(admin['_id'])
    folders = [app.models.folder.create('f%d' % n, admin, 'user', admin) for n in range(3)]
    for folder in folders:
        for i in range(3):
            app.models.item.create('item %d' % i, folder, admin)
        r = server.request('item', user=admin, params={'folderId': folder['_id']})
        assert len(r.json) == 3
    info = app.listings.info()
    assert info['rows'] <= 8 and info['listings'] == 2
    # a listing bigger than the whole cache is answered, just not kept
    for i in range(3, 9):
        app.models.item.create('item %d' % i, folders[0], admin)
    r = server.request('item', user=admin, params={'folderId': folders[0]['_id']})
    assert len(r.json) == 9 and app.listings.info()['rows'] <= 8


def test_token_cache_is_a_bounded_lru_not_emptied_when_full(app_with, admin):
    app = app_with(auth_cache_seconds=60, auth_cache_size=3)
    user = app.models.user.load(admin['_id'])
    tokens = [app.models.token.create(user)['_id'] for _ in range(5)]
    for token in tokens:
        assert app.auth.authenticate(token)[0]['_id'] == user['_id']
    before = samples(app.metrics.exposition().decode())
    for token in tokens[-3:]:  # the three most recent are all still cached
        app.auth.authenticate(token)
    after = samples(app.metrics.exposition().decode())
    hits = value(after, 'tilery_cache_hits_total', cache='auth') - \
        value(before, 'tilery_cache_hits_total', cache='auth')
    assert hits == 3
    app.auth.authenticate(tokens[0])  # evicted: read again
    assert value(samples(app.metrics.exposition().decode()), 'tilery_cache_misses_total',
                 cache='auth') == 6


def test_tile_item_cache_size_is_a_setting(app_with):
    app = app_with(extra={'large_image.item_cache_size': 7})
    assert app.large_image.item_cache.info()['maxsize'] == 7


# -- access log
@pytest.fixture
def access_lines():
    """The lines the access logger writes during a test (through a real handler)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter('%(message)s'))
    logger = logging.getLogger(ACCESS_LOGGER)
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield lambda: [line for line in stream.getvalue().splitlines() if line]
    logger.removeHandler(handler)
    logger.setLevel(old_level)
    logger.propagate = old_propagate


def test_one_combined_log_line_per_request_api_static_and_metrics(
        bound_server, admin, access_lines):
    token = bound_server.app.models.token.create(admin)['_id']
    # one connection: a streamed answer's line is written when the server closes its
    # body, and the next request on the connection starts after that
    session = requests.Session()
    r = session.get(bound_server.api_url + '/user/me', headers={'Girder-Token': token})
    assert r.status_code == 200
    r = session.get(bound_server.api_url + '/item/000000000000000000000000',
                    params={'token': token})
    assert r.status_code == 400 or r.status_code == 404
    assert session.get(bound_server.url + '/').status_code == 200
    assert session.get(bound_server.url + '/metrics').status_code == 200
    bound_server.server.wsgi_app.flush()  # lines are written by a background thread
    lines = access_lines()
    assert len(lines) == 4, lines
    pattern = re.compile(r'^127\.0\.0\.1 - (\S+) \[[^\]]+\] "(\S+) (\S+) HTTP/1\.1" (\d{3}) '
                         r'(\d+|-) "[^"]*" "[^"]*" (\d+)$')
    parsed = [pattern.match(line) for line in lines]
    assert all(parsed), lines
    me, missing, static, metrics = [m.groups() for m in parsed]
    assert me[:4] == (str(admin['_id']), 'GET', '/api/v1/user/me', '200')
    assert int(me[4]) == len(r.content) or int(me[4]) > 0
    # a token given in the query string is not written to the log
    assert token not in lines[1] and '/api/v1/item/000000000000000000000000?token=-' in lines[1]
    assert missing[0] == str(admin['_id']) and missing[3] in ('400', '404')
    assert static[:4] == ('-', 'GET', '/', '200')
    assert metrics[2] == '/metrics'


def test_json_access_log(mongo_client, db, tmp_path, admin, access_lines):
    app = make_app(mongo_client, db, tmp_path / 'data', access_log_format='json')
    bound = BoundServer(app).start()
    try:
        body = b'x' * 1000
        token = app.models.token.create(app.models.user.load(admin['_id']))['_id']
        folder = app.models.folder.create('up', admin, 'user', admin)
        r = requests.post(bound.api_url + '/file', data=body, headers={'Girder-Token': token},
                          params={'parentType': 'folder', 'parentId': str(folder['_id']),
                                  'name': 'a.bin', 'size': len(body)})
        assert r.status_code == 200
        file_id = r.json()['_id']
        session = requests.Session()
        r = session.get(bound.api_url + '/file/%s/download' % file_id,
                        headers={'Girder-Token': token})
        assert r.content == body
        # a streamed body's line is written when the server closes it, after the client
        # has the bytes; the next request on the same connection starts after that
        assert session.get(bound.api_url + '/system/version').status_code == 200
        bound.server.wsgi_app.flush()
    finally:
        bound.stop()
    lines = [json.loads(line) for line in access_lines()]
    assert [(e['method'], e['status'], e['user']) for e in lines] == [
        ('POST', 200, str(admin['_id'])), ('GET', 200, str(admin['_id'])), ('GET', 200, None)]
    assert lines[1]['path'] == '/api/v1/file/%s/download' % file_id
    assert lines[1]['bytes'] == 1000 and lines[1]['duration_ms'] >= 0


def test_a_wrong_access_log_format_fails_at_start(mongo_client, db, tmp_path):
    app = make_app(mongo_client, db, tmp_path / 'data', access_log_format='apache')
    try:
        with pytest.raises(ValueError, match='access_log_format'):
            BoundServer(app)
    finally:
        app.stop()


# -- metrics
def test_metrics_by_route_pattern_with_a_real_scrape(bound_server, admin):
    app = bound_server.app
    token = app.models.token.create(admin)['_id']
    folder = app.models.folder.create('m', admin, 'user', admin)
    items = [app.models.item.create('i%d' % i, folder, admin) for i in range(3)]
    for item in items:
        r = requests.get(bound_server.api_url + '/item/%s' % item['_id'],
                         headers={'Girder-Token': token})
        assert r.status_code == 200
    requests.get(bound_server.api_url + '/no/such/route')
    for n in range(3):  # made-up methods must not each make a new label
        requests.request('X-METHOD-%d' % n, bound_server.api_url + '/item')
    r = requests.get(bound_server.url + '/metrics')
    assert r.status_code == 200 and r.headers['Content-Type'].startswith('text/plain')
    found = samples(r.text)
    assert value(found, 'tilery_http_requests_total', method='GET', route='item/:id',
                 status='2xx') == 3
    assert value(found, 'tilery_http_request_duration_seconds_count', route='item/:id') == 3
    assert value(found, 'tilery_http_requests_total', method='GET', route='unmatched',
                 status='4xx') == 1
    assert value(found, 'tilery_http_requests_total', method='other') == 3
    assert 'X-METHOD' not in r.text
    # bounded labels without user data: no ids, logins or raw paths
    for item in items:
        assert str(item['_id']) not in r.text
    assert 'admin' not in r.text and str(admin['_id']) not in r.text
    assert value(found, 'tilery_cache_misses_total', cache='large_image_sources') == 0


def test_metrics_are_for_localhost_or_the_metrics_token(app_with):
    def scrape(app, remote, auth=None):
        seen = {}

        def start_response(status, headers):
            seen['status'] = int(status[:3])
        environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '', 'REMOTE_ADDR': remote}
        if auth:
            environ['HTTP_AUTHORIZATION'] = auth
        body = b''.join(MetricsApp(app.metrics)(environ, start_response))
        return seen['status'], body
    open_app = app_with()
    assert scrape(open_app, '127.0.0.1')[0] == 200
    assert scrape(open_app, '::1')[0] == 200
    status, body = scrape(open_app, '10.1.2.3')
    assert status == 403 and json.loads(body)['type'] == 'access'
    assert scrape(open_app, '10.1.2.3', 'Bearer anything')[0] == 403
    locked = app_with(metrics_token='s3cret-token')
    assert scrape(locked, '10.1.2.3', 'Bearer s3cret-token')[0] == 200
    assert scrape(locked, '10.1.2.3', 'Bearer wrong')[0] == 403
    assert scrape(locked, '10.1.2.3', 'Basic s3cret-token')[0] == 403


def test_metrics_refuse_other_methods_and_paths(bound_server):
    r = requests.post(bound_server.url + '/metrics')
    assert r.status_code == 405 and r.json()['type'] == 'rest'
    r = requests.get(bound_server.url + '/metrics/other')
    assert r.status_code == 404 and 'message' in r.json()


def test_job_queue_depth_and_durations(db):
    metrics = Metrics()
    service = JobService(db, JobSettings(pool_size=1), metrics)
    try:
        ran = []
        service.register('soak_test', lambda ctx: ran.append(ctx))
        jobs = [service.create('t%d' % i, 'soak_test') for i in range(3)]
        for job in jobs:
            service.wait(job['_id'], 60)
    finally:
        service.stop()
    assert len(ran) == 3
    found = samples(metrics.exposition().decode())
    assert value(found, 'tilery_jobs_queued', type='soak_test') == 0
    assert value(found, 'tilery_job_duration_seconds_count', type='soak_test',
                 status='success') == 3


# -- a real server: logs to a rotating file, metrics summed over worker processes
def test_served_workers_log_to_a_file_and_one_scrape_sees_them_all(tmp_path, mongo_uri):
    port = free_port()
    log_path = tmp_path / 'logs' / 'access.log'
    uri = mongo_uri.replace('/?', '/cli_metrics_%d?' % port)
    env = dict(os.environ, TILERY_ACCESS_LOG=str(log_path), TILERY_ACCESS_LOG_FORMAT='json')
    proc = subprocess.Popen([TILERY, 'serve', '--port', str(port), '--data-dir',
                             str(tmp_path / 'data'), '--no-build', '--workers', '2',
                             '--mongo-uri', uri], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        base = 'http://127.0.0.1:%d' % port
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None and time.monotonic() < deadline
            try:
                requests.get(base + '/api/v1/system/version', timeout=2).raise_for_status()
                break
            except requests.RequestException:
                time.sleep(0.2)
        for _ in range(40):  # new connections: SO_REUSEPORT spreads them over both workers
            assert requests.get(base + '/api/v1/system/version').status_code == 200
        scrapes = [samples(requests.get(base + '/metrics').text) for _ in range(4)]
        for found in scrapes:  # whichever worker answers, it counts every worker's requests
            assert value(found, 'tilery_http_requests_total', route='system/version') >= 41
            assert value(found, 'tilery_db_command_duration_seconds_count') > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 0, out
    # every line is in the file once the workers have stopped
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    versions = [e for e in lines if e['path'] == '/api/v1/system/version']
    assert len(versions) >= 41 and all(e['status'] == 200 for e in versions)
    assert 'system/version' not in out  # the access log went to the file only


def test_malloc_arenas_are_capped_on_glibc():
    from tilery.cli import limit_malloc_arenas
    assert limit_malloc_arenas(0) is False  # 0 leaves glibc's default
    assert limit_malloc_arenas(2) is (sys.platform.startswith('linux') and
                                      os.confstr('CS_GNU_LIBC_VERSION') is not None)
