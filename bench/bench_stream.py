"""Notification stream benchmark: PATCH-to-event latency, memory per stream, throughput.

Starts a server (``tilery serve --workers 1``, scratch data directory) unless BASE_URL
(and SERVER_PID, for the memory figure) point at one. Viewers (VIEWERS users, streams
spread over them) watch one slide's item; the bench admin PATCHes an annotation on it.

- latency: from sending a PATCH to the event's arrival at every subscribed stream,
  p50/p95 over PATCHES patches, with 1 and with SUBSCRIBERS (default 200) streams,
  the PATCHes half a second apart and then back to back;
- memory: the server's RSS before and after opening MEMORY_STREAMS (default 500)
  streams, per stream;
- throughput: PATCHes sent by 4 threads while SUBSCRIBERS streams listen: events the
  server published a second, and frames (event x stream) it wrote a second;
- publish overhead (in-process, embedded database): PATCHes of one element alternately
  with and without their announcement, through the background publisher and through
  the feed directly (why the hot paths use the publisher: notification/publisher.py).

Environment: BASE_URL, SERVER_PID, SUBSCRIBERS, MEMORY_STREAMS, PATCHES, VIEWERS.
Prints one JSON line per part; progress goes to stderr.
Run: .venv/bin/python bench/bench_stream.py
"""
import json
import os
import selectors
import socket
import threading
import time
import urllib.parse

import requests

from benchlib import Server, log, login, percentile, rss_mb

SUBSCRIBERS = int(os.environ.get('SUBSCRIBERS', '200'))
MEMORY_STREAMS = int(os.environ.get('MEMORY_STREAMS', '500'))
PATCHES = int(os.environ.get('PATCHES', '40'))
VIEWERS = int(os.environ.get('VIEWERS', '10'))


class Streams:
    """Open streams read by one selector thread; each event's arrival time per stream."""

    def __init__(self, api_url, tokens, watch):
        parsed = urllib.parse.urlparse(api_url)
        self.address = (parsed.hostname, parsed.port)
        self.path = parsed.path + '/notification/stream?' + urllib.parse.urlencode(
            {'watch': watch, 'timeout': 3600})
        self.tokens = tokens
        self.arrivals = {}  # event name -> [arrival times]
        self.frames = 0
        self._selector = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._stop = False
        self._socks = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def open(self, count):
        for n in range(count):
            sock = socket.create_connection(self.address)
            sock.sendall(('GET %s HTTP/1.1\r\nHost: bench\r\nGirder-Token: %s\r\n\r\n' % (
                self.path, self.tokens[n % len(self.tokens)])).encode())
            sock.setblocking(False)
            self._socks.append(sock)
            self._selector.register(sock, selectors.EVENT_READ, [b''])
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def _run(self):
        while not self._stop:
            for key, _ in self._selector.select(0.2):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if data:
                    self._parse(key.data, data, time.perf_counter())

    def _parse(self, buffer, data, now):
        buffer[0] += data
        # each frame's JSON carries the annotation name the PATCH set, e.g. "p17"
        while b'"name":"p' in buffer[0]:
            head, _, rest = buffer[0].partition(b'"name":"p')
            name, _, rest = rest.partition(b'"')
            buffer[0] = rest
            with self._lock:
                self.arrivals.setdefault(name.decode(), []).append(now)
                self.frames += 1
        if len(buffer[0]) > 1 << 16:
            buffer[0] = buffer[0][-4096:]

    def close(self):
        self._stop = True
        self._thread.join(5)
        for sock in self._socks:
            sock.close()
        self._selector.close()


def setup(url):
    gc = login(url)
    viewers = []
    for n in range(VIEWERS):
        login_name = 'viewer%d' % n
        try:
            gc.post('user', parameters={'login': login_name, 'email': '%s@example.com' %
                                        login_name, 'firstName': 'V', 'lastName': str(n),
                                        'password': 'viewerpass1'})
        except Exception:  # made by an earlier run against the same server
            pass
        r = requests.get(url + '/user/authentication', auth=(login_name, 'viewerpass1'))
        r.raise_for_status()
        viewers.append(r.json()['authToken']['token'])
    me = gc.get('user/me')
    public = next(f for f in gc.listFolder(me['_id'], 'user') if f['name'] == 'Public')
    folder = gc.createFolder(public['_id'], 'stream-bench-%d' % time.time(), public=True)
    item = gc.createItem(folder['_id'], 'slide')
    annotation = gc.post('annotation', parameters={'itemId': item['_id']}, json={
        'name': 'start', 'elements': [
            {'type': 'point', 'center': [i, i, 0]} for i in range(100)]})
    return gc, viewers, item, annotation


def patch(url, token, annotation_id, name):
    r = requests.patch('%s/annotation/%s' % (url, annotation_id),
                       headers={'Girder-Token': token},
                       json=[{'op': 'replace', 'path': 'name', 'value': name}])
    r.raise_for_status()


def latency(url, gc, viewers, item, annotation, subscribers, spacing):
    streams = Streams(url, viewers, 'item:%s' % item['_id']).open(subscribers)
    time.sleep(1.0 + subscribers / 200.0)
    waits = []
    for n in range(PATCHES):
        time.sleep(spacing)
        name = '%d' % n
        started = time.perf_counter()
        patch(url, gc.token, annotation['_id'], 'p' + name)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with streams._lock:
                got = list(streams.arrivals.get(name, ()))
            if len(got) >= subscribers:
                break
            time.sleep(0.002)
        waits += [(t - started) * 1000 for t in got]
        missing = subscribers - len(got)
        if missing:
            log('patch %s: %d streams had no event within 5 s' % (name, missing))
    streams.close()
    return {'bench': 'stream_latency', 'subscribers': subscribers, 'patches': PATCHES,
            'spacing_s': spacing, 'events': len(waits), 'p50_ms': round(percentile(waits, 50), 1),
            'p95_ms': round(percentile(waits, 95), 1)}


def memory(url, server, viewers, item):
    pid = server.pid
    before = rss_mb(pid) if pid else None
    threads_before = len(os.listdir('/proc/%d/task' % pid)) if pid else None
    streams = Streams(url, viewers, 'item:%s' % item['_id']).open(MEMORY_STREAMS)
    time.sleep(3)
    after = rss_mb(pid) if pid else None
    threads = len(os.listdir('/proc/%d/task' % pid)) if pid else None
    streams.close()
    per = (after - before) * 1024 / MEMORY_STREAMS if before and after else None
    return {'bench': 'stream_memory', 'streams': MEMORY_STREAMS, 'rss_before_mb':
            before and round(before, 1), 'rss_after_mb': after and round(after, 1),
            'kib_per_stream': per and round(per, 1), 'server_threads_before': threads_before,
            'server_threads': threads}


def throughput(url, gc, viewers, item, annotation):
    total = PATCHES * 4

    # one annotation a thread: PATCHes of one annotation without a version would race
    targets = [annotation] + [gc.post('annotation', parameters={'itemId': item['_id']}, json={
        'name': 'start', 'elements': []}) for _ in range(3)]

    def send(offset):
        for n in range(offset, total, 4):
            patch(url, gc.token, targets[offset]['_id'], 'p%d' % (10000 + n))
    threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
    streams = Streams(url, viewers, 'item:%s' % item['_id']).open(SUBSCRIBERS)
    time.sleep(1.0 + SUBSCRIBERS / 200.0)
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline = time.monotonic() + 10
    while streams.frames < total * SUBSCRIBERS and time.monotonic() < deadline:
        time.sleep(0.01)
    with streams._lock:
        last = max((max(v) for v in streams.arrivals.values()), default=started)
        frames = streams.frames
    streams.close()
    seconds = last - started
    return {'bench': 'stream_throughput', 'subscribers': SUBSCRIBERS, 'events': total,
            'frames': frames, 'seconds': round(seconds, 2),
            'events_per_s': round(total / seconds, 1), 'frames_per_s': round(frames / seconds)}


def publish_overhead(rounds=400):
    """Median PATCH time with and without announcing it, interleaved (same load)."""
    import statistics
    import tempfile
    from tilery import database
    from tilery.testing import TestServer, make_app
    out = {'bench': 'stream_publish_overhead', 'patches_each': rounds // 2}
    with database.EmbeddedDatabase(tempfile.mkdtemp(prefix='tilery-bench-db-')) as db_server:
        client = database.connect(db_server.uri)
        app = make_app(client, client['bench'], tempfile.mkdtemp(prefix='tilery-bench-'))
        server = TestServer(app)
        user = app.models.user.create('alice', 'a@example.com', 'A', 'B', 'password1')
        folder = app.models.folder.find_one({'name': 'Public'})
        item = app.models.item.create('slide', folder, user)
        aid = server.request('annotation', 'POST', user, {'itemId': item['_id']}, {
            'name': 'a', 'elements': [{'id': '%024x' % (i + 1), 'type': 'point',
                                       'center': [i, i, 0]} for i in range(1000)]}).json['_id']
        for name, feed in (('publisher', app.notifications.publisher), ('feed', app.feed)):
            times = {True: [], False: []}
            for n in range(rounds):
                app.annotations.feed = feed if n % 2 else None
                started = time.perf_counter()
                server.request('annotation/' + aid, 'PATCH', user, body=[{
                    'op': 'replace', 'path': 'elements/id:%024x/center' % (n % 1000 + 1),
                    'value': [n, n + 1, 0]}])
                times[bool(n % 2)].append((time.perf_counter() - started) * 1000)
            app.notifications.publisher.flush()
            out['%s_ms' % name] = round(statistics.median(times[True]), 1)
            out['%s_unannounced_ms' % name] = round(statistics.median(times[False]), 1)
        app.stop()
        client.close()
    return out


def main():
    os.environ.setdefault('TILERY_STREAM_MAX_PER_USER', str(MEMORY_STREAMS + SUBSCRIBERS))
    with Server(1) as server:
        url = server.url
        gc, viewers, item, annotation = setup(url)
        # edits half a second apart (people editing), then back to back (a burst: the
        # publisher then stores a batch at most every LINGER, notification/publisher.py)
        for spacing in (0.5, 0.0):
            for count in (1, SUBSCRIBERS):
                log('latency with %d subscribers, PATCHes %s s apart' % (count, spacing))
                print(json.dumps(latency(url, gc, viewers, item, annotation, count, spacing)),
                      flush=True)
        log('memory of %d streams' % MEMORY_STREAMS)
        print(json.dumps(memory(url, server, viewers, item)), flush=True)
        log('throughput with %d subscribers' % SUBSCRIBERS)
        print(json.dumps(throughput(url, gc, viewers, item, annotation)), flush=True)
    log('publish overhead on PATCH')
    print(json.dumps(publish_overhead()), flush=True)


if __name__ == '__main__':
    main()
