"""Helpers the benchmark scripts share (they run as `python bench/<script>.py`)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def log(*args):
    """Progress goes to stderr; stdout carries only the JSON figures."""
    print(*args, file=sys.stderr, flush=True)


def rss_mb(pid):
    """The RSS (MB) of process ``pid``, from /proc; None when it cannot be read."""
    try:
        with open('/proc/%d/status' % pid) as fh:
            for line in fh:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        return None
    return None


def percentile(values, p):
    """The p-th percentile (nearest rank) of a list of numbers."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round((len(values) - 1) * p / 100.0)))]


def synthetic(size):
    """The peer benchmark's RGB test pattern (shared/peer/bench_tiles.py), as a vips image."""
    import pyvips
    xyz = pyvips.Image.xyz(size, size)
    x, y = xyz[0], xyz[1]
    noise = pyvips.Image.gaussnoise(size, size, sigma=8, mean=0, seed=42)
    r = ((x ^ y) & 255) * 0.6 + noise
    g = ((x * 0.25 + y * 0.5) % 256) * 0.8 + noise
    b = ((x * 0.03 + y * 0.07) % 256) * 0.7 + noise * 0.5
    return r.bandjoin([g, b]).cast('uchar')


def pyramid_tiff(tmp, size, name, **options):
    """A synthetic pyramidal JPEG TIFF of ``size``² under ``tmp`` (made once, then
    reused), read directly by a tile source; ``options`` go to libvips' tiffsave."""
    path = os.path.join(tmp, '%s_%d.tiff' % (name, size))
    if not os.path.exists(path):
        os.makedirs(tmp, exist_ok=True)
        log('generating', path)
        synthetic(size).tiffsave(path + '.tmp', tile=True, pyramid=True, compression='jpeg',
                                 tile_width=256, tile_height=256, **options)
        os.rename(path + '.tmp', path)
    return path

def wrk_tiles(base, token, tile_path, across, down, seconds, tmp, connections=8):
    """`wrk` on random tiles ``tile_path/x/y`` (x < across, y < down) at server ``base``."""
    script = os.path.join(tmp, 'wrk_tiles.lua')
    with open(script, 'w') as fh:
        fh.write('math.randomseed(7)\nwrk.headers["Girder-Token"] = "%s"\n'
                 'request = function()\n  return wrk.format(nil, string.format("%s/%%d/%%d", '
                 'math.random(0, %d), math.random(0, %d)))\nend\n' % (
                     token, tile_path, across - 1, down - 1))
    out = subprocess.run(['wrk', '-t2', '-c%d' % connections, '-d%ds' % seconds, '--latency',
                          '-s', script, base], capture_output=True, text=True).stdout
    rate = re.search(r'Requests/sec:\s+([\d.]+)', out)
    lat = dict(re.findall(r'^\s+(50|90|99)%\s+(\S+)', out, re.M))
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    return {'connections': connections, 'tiles_per_s': float(rate.group(1)) if rate else None,
            'latency': lat, 'non_2xx': int(non2xx.group(1)) if non2xx else 0}


class Server:
    """A Tilery started for one run (scratch data directory), or the one at BASE_URL.

    ``pid`` is the server process's (SERVER_PID with BASE_URL), for RSS readings.
    """

    def __init__(self, workers=1, port_base=18000):
        self.url = os.environ.get('BASE_URL')
        self.pid = int(os.environ['SERVER_PID']) if os.environ.get('SERVER_PID') else None
        self.workers, self.port_base = workers, port_base
        self.proc = None
        self.data = None

    def __enter__(self):
        import requests
        if self.url:
            return self
        self.data = tempfile.mkdtemp(prefix='tilery-bench-')
        port = self.port_base + os.getpid() % 1000
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'tilery.cli', 'serve', '--port', str(port), '--data-dir',
             self.data, '--no-build', '--workers', str(self.workers)],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.data, 'log'), 'w'))
        self.pid = self.proc.pid
        self.url = 'http://127.0.0.1:%d/api/v1' % port
        for _ in range(240):
            try:
                requests.get(self.url + '/system/version', timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if self.proc.poll() is not None:
                    raise SystemExit('the server exited; see %s/log' % self.data)
                time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(60)
            shutil.rmtree(self.data, ignore_errors=True)


def login(url):
    """girder-client signed in as the bench admin (registered on first use)."""
    import girder_client
    import requests
    gc = girder_client.GirderClient(apiUrl=url)
    try:
        gc.authenticate('admin', 'adminpass1')
    except (girder_client.AuthenticationError, girder_client.HttpError):
        requests.post(url + '/user', params={
            'login': 'admin', 'email': 'admin@example.com', 'firstName': 'Bench',
            'lastName': 'Admin', 'password': 'adminpass1'}).raise_for_status()
        gc.authenticate('admin', 'adminpass1')
    return gc
