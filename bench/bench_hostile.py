"""Hostile bodies: what a refused deeply nested request costs the server.

Starts a Tilery (scratch data directory) unless BASE_URL is set (then SERVER_PID gives
the server's pid for RSS), and sends ROUNDS times: an annotation whose one element
has a `user` field nested DEPTH objects deep (~600 KB at 100,000), and a metadata
body nested 1,000 deep. Prints one JSON line: each answer's status and time, and the
server's RSS before and after (MB). Before the request bounds, the annotation body
took ~45 s and 10 GB, then answered 500.
Run: .venv/bin/python bench/bench_hostile.py
"""
import json
import os
import time

import requests

from benchlib import Server, log, login, rss_mb

DEPTH = int(os.environ.get('DEPTH', '100000'))
ROUNDS = int(os.environ.get('ROUNDS', '3'))



def nested(depth):
    return '{"a":' * depth + '1' + '}' * depth


def timed(method, url, **kwargs):
    started = time.monotonic()
    answer = requests.request(method, url, timeout=300, **kwargs)
    return {'status': answer.status_code, 'seconds': round(time.monotonic() - started, 3),
            'message': (answer.json() or {}).get('message', '')[:80]}


def main():
    with Server() as server:
        gc = login(server.url)
        token = {'Girder-Token': gc.token}
        me = gc.get('user/me')
        folder = next(gc.listFolder(me['_id'], 'user', name='Private'))
        item = gc.createItem(folder['_id'], 'hostile', reuseExisting=True)
        annotation = ('{"name": "deep", "elements": [{"type": "point", "center": [1, 1, 0], '
                      '"user": %s}]}' % nested(DEPTH)).encode()
        metadata = nested(1000).encode()
        before = rss_mb(server.pid) if server.pid else None
        log('RSS before: %s MB; annotation body %d bytes' % (before, len(annotation)))
        answers = []
        for _ in range(ROUNDS):
            answers.append(timed('POST', server.url + '/annotation', data=annotation,
                                 params={'itemId': item['_id']},
                                 headers=dict(token, **{'Content-Type': 'application/json'})))
            answers.append(timed('PUT', server.url + '/item/%s/metadata' % item['_id'],
                                 data=metadata,
                                 headers=dict(token, **{'Content-Type': 'application/json'})))
        after = rss_mb(server.pid) if server.pid else None
        print(json.dumps({'bench': 'hostile_bodies', 'depth': DEPTH,
                          'annotation_body_bytes': len(annotation), 'answers': answers,
                          'rss_mb': {'before': before and round(before, 1),
                                     'after': after and round(after, 1)}}))


if __name__ == '__main__':
    main()
