"""Sign-in throttle and timing (issue 8): what 50 wrong passwords get, and how long a
wrong password takes for a known login against an unknown one (median of 40 each).

Starts its own Tilery (embedded database, scratch data directory) unless BASE_URL
points at a running one whose admin is admin/adminpass1. Prints JSON lines.
"""
import json
import statistics
import time

import requests

from bench_tiles_http import Server, login

TRIES = 50
TIMED = 40


def main():
    with Server() as server:
        url = server.url
        admin = login(url)
        requests.post(url + '/user', params={
            'login': 'victim', 'email': 'victim@example.com', 'firstName': 'V',
            'lastName': 'Ictim', 'password': 'victim-pass1'})
        clear = {'Girder-Token': admin.token}

        def unlock(who):
            requests.delete(url + '/system/login_throttle', headers=clear,
                            params={'login': who, 'ip': '127.0.0.1'}).raise_for_status()

        unlock('victim')
        answers = [requests.get(url + '/user/authentication', auth=('victim', 'guess%d' % i))
                   for i in range(TRIES)]
        statuses = [a.status_code for a in answers]
        right = requests.get(url + '/user/authentication', auth=('victim', 'victim-pass1'))
        print(json.dumps({
            'bench': 'login_throttle', 'wrong_passwords': TRIES,
            'answered_401': statuses.count(401), 'answered_429': statuses.count(429),
            'first_429_at_try': statuses.index(429) + 1 if 429 in statuses else None,
            'retry_after_s': sorted({int(a.headers['Retry-After']) for a in answers
                                     if a.status_code == 429}),
            'right_password_during_lock': right.status_code}))

        def timed_try(who, i):
            unlock(who)  # time every refusal, never a 429
            start = time.perf_counter()
            status = requests.get(url + '/user/authentication',
                                  auth=(who, 'wrong-%d' % i)).status_code
            assert status == 401, status
            return time.perf_counter() - start

        # interleaved, so the machine's load drifts alike for both
        times = {'victim': [], 'nobody-at-all': []}
        for i in range(TIMED):
            for who in times:
                times[who].append(timed_try(who, i))
        known, unknown = (statistics.median(times[w]) * 1000 for w in times)
        unlock('victim')
        print(json.dumps({'bench': 'login_timing', 'tries_each': TIMED,
                          'known_login_median_ms': round(known, 1),
                          'unknown_login_median_ms': round(unknown, 1),
                          'unknown_over_known': round(unknown / known, 2)}))


if __name__ == '__main__':
    main()
