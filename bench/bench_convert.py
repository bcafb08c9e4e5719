"""Conversion wall time and peak memory: Tilery's conversion worker against
``vips tiffsave --tile --pyramid`` of the same input, in the same run.

Inputs (made once, kept in BENCH_TMP): a SIZE x SIZE synthetic RGB image (the peer
benchmark's pattern) as an uncompressed strip TIFF and as a PNG. Every conversion
runs as a child process; its peak RSS comes from wait4(). Methods:

- ``vips``: the vips command line (``vips`` on PATH, e.g. Debian's libvips-tools),
  else the same operation through pyvips in a child process;
- ``tilery``: ``python -m tilery.plugins.large_image.convert_worker``, exactly what a
  conversion job runs (JPEG Q90 chosen automatically for 8-bit RGB);
- ``converter`` (CONVERTER=1): ``large_image_converter.convert(..., compression='jpeg',
  quality=90)`` for reference.

Env: SIZE (20000), BENCH_TMP ($TMPDIR or /tmp), REPEAT (1), CONVERTER (0).
Prints one JSON line: per input and method the best wall seconds and the peak RSS,
and tilery/vips ratios.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from benchlib import log, synthetic

SIZE = int(os.environ.get('SIZE', '20000'))
TMP = os.environ.get('BENCH_TMP', tempfile.gettempdir())
REPEAT = int(os.environ.get('REPEAT', '1'))
CONVERTER = os.environ.get('CONVERTER', '0') not in ('0', '', 'false')


def make_inputs():
    paths = {'strip_tiff': os.path.join(TMP, 'bench_strip_%d.tiff' % SIZE),
             'png': os.path.join(TMP, 'bench_%d.png' % SIZE)}
    for kind, path in paths.items():
        if os.path.exists(path):
            continue
        log('generating', path)
        image = synthetic(SIZE)
        if kind == 'png':
            image.pngsave(path + '.tmp.png', compression=1)
        else:
            image.tiffsave(path + '.tmp.tiff', tile=False, compression='none', bigtiff=True)
        os.rename(path + ('.tmp.png' if kind == 'png' else '.tmp.tiff'), path)
    return paths


def run(argv):
    """(wall seconds, peak RSS in MB) of a child process; raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError('%s failed: %s %s' % (argv[:3], out[-500:], err[-500:]))
    return wall, usage.ru_maxrss / 1024.0


def commands(src, dst):
    vips = shutil.which('vips')
    if vips:
        reference = [vips, 'tiffsave', src, dst, '--tile', '--pyramid', '--compression',
                     'jpeg', '--Q', '90', '--tile-width', '256', '--tile-height', '256',
                     '--bigtiff']
    else:
        reference = [sys.executable, '-c', (
            'import pyvips, sys\npyvips.Image.new_from_file(sys.argv[1], access="sequential")'
            '.tiffsave(sys.argv[2], tile=True, pyramid=True, compression="jpeg", Q=90, '
            'tile_width=256, tile_height=256, bigtiff=True)'), src, dst]
    methods = {
        'vips': reference,
        'tilery': [sys.executable, '-m', 'tilery.plugins.large_image.convert_worker',
                   json.dumps({'src': src, 'dst': dst, 'name': os.path.basename(src)})],
    }
    if CONVERTER:
        methods['converter'] = [sys.executable, '-c', (
            'import large_image_converter, sys\nlarge_image_converter.convert(sys.argv[1], '
            'sys.argv[2], compression="jpeg", quality=90, geospatial=False, overwrite=True)'),
            src, dst]
    return methods, 'vips CLI %s' % vips if vips else 'pyvips (no vips on PATH)'


def main():
    inputs = make_inputs()
    out = {'bench': 'convert', 'size_px': SIZE, 'repeat': REPEAT, 'results': {}}
    dst = os.path.join(TMP, 'bench_convert_out.tiff')
    for kind, src in inputs.items():
        methods, out['reference'] = commands(src, dst)
        results = {}
        for _ in range(REPEAT):
            for name, argv in methods.items():  # interleaved: noise hits all alike
                if os.path.exists(dst):
                    os.unlink(dst)
                wall, rss = run(argv)
                best = results.setdefault(name, {'wall_s': wall, 'peak_rss_mb': rss})
                best['wall_s'] = round(min(best['wall_s'], wall), 2)
                best['peak_rss_mb'] = round(max(best['peak_rss_mb'], rss), 1)
                best['output_mb'] = round(os.path.getsize(dst) / 2 ** 20, 1)
                log(kind, name, round(wall, 2), 's', round(rss), 'MB')
        results['ratio_tilery_to_vips'] = {
            'wall': round(results['tilery']['wall_s'] / results['vips']['wall_s'], 2),
            'peak_rss': round(results['tilery']['peak_rss_mb'] /
                              results['vips']['peak_rss_mb'], 2)}
        out['results'][kind] = dict(results, input_mb=round(os.path.getsize(src) / 2 ** 20))
    if os.path.exists(dst):
        os.unlink(dst)
    out['ts'] = time.strftime('%Y-%m-%dT%H:%M:%S%z')
    print(json.dumps(out, sort_keys=True), flush=True)


if __name__ == '__main__':
    main()
