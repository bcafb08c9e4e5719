"""The ``tilery`` command: ``tilery serve`` runs the server (and, by default, its database)."""
import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from . import __version__

log = logging.getLogger('tilery')
DATABASE_STOP_SECONDS = 3.0  # the embedded database takes about 2 s to stop cleanly
EXIT_MARGIN_SECONDS = 1.5  # beyond shutdown_grace, for closing down after the drain


def _say_if_no_web_client(settings):
    """Print one clear line when there is no built web client to serve."""
    from .webroot import default_web_dir
    web_dir = settings.web_client_dir or default_web_dir()
    if not os.path.isfile(os.path.join(web_dir, 'index.html')):
        print('No web client in %s (bash scripts/setup.sh builds it when npm is there); '
              'serving the API only.' % web_dir, flush=True)


def serve(args):
    """Run the server (one process, or several sharing the port) until Ctrl-C or SIGTERM."""
    from .app import check_settings
    from .database import EmbeddedDatabase, free_port
    from .settings import Settings, SettingsError

    try:  # before anything starts: a misspelt or mistyped key stops here, by name
        settings = Settings.load(args.config, host=args.host, port=args.port,
                                 data_dir=args.data_dir, mongo_uri=args.mongo_uri,
                                 debug=args.debug or None, workers=args.workers)
        check_settings(settings)
    except SettingsError as exc:
        raise SystemExit('tilery: %s' % exc)
    os.makedirs(settings.data_dir, exist_ok=True)
    if not args.reuse_port:
        _say_if_no_web_client(settings)
    if settings.port and not args.reuse_port:
        _check_port(settings.host, settings.port)
    embedded = None
    try:
        if not settings.mongo_uri:
            path = os.path.join(settings.data_dir, 'db')
            print('Starting the embedded database (SecantusDB) in %s ...' % path, flush=True)
            embedded = EmbeddedDatabase(path).start()
            settings.mongo_uri = embedded.uri
        if settings.workers > 1 and not args.reuse_port:
            if not settings.port:
                settings.port = free_port(settings.host)
            return _run_workers(settings, args)
        return _serve_one(settings, reuse_port=args.reuse_port)
    finally:
        if embedded is not None:
            # briefly: a kill loses nothing, the database syncs every commit
            embedded.stop(timeout=DATABASE_STOP_SECONDS)


def _check_port(host, port):
    """Stop with a clear message (before starting anything) when the port is taken."""
    import socket
    try:
        with socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise SystemExit('tilery: cannot listen on %s:%d (%s). Is another server running '
                         'there? Choose another --port.' % (host, port, exc.strerror or exc))


def _announce(settings, port, workers=1):
    host = settings.host if settings.host not in ('0.0.0.0', '::') else 'localhost'
    print('Tilery %s is running%s. Open http://%s:%d/ in your browser (API at '
          'http://%s:%d/api/v1). Press Ctrl-C to stop.' % (
              __version__, ' in %d processes' % workers if workers > 1 else '', host, port,
              host, port), flush=True)


def configure_access_log(settings, shared=False):
    """Send the one-line-a-request access log where ``settings.access_log`` says.

    Several worker processes (``shared``) must not rotate one file each on their own
    (they would rename it under each other), so with ``--workers`` a file is reopened when an
    outside logrotate moves it (WatchedFileHandler), whatever access_log_max_bytes says.
    """
    import logging.handlers

    from .rest.wsgi import ACCESS_LOGGER
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    target = settings.access_log
    if not target:
        logger.setLevel(logging.WARNING)  # off: Observed skips formatting the line
        return logger
    logger.setLevel(logging.INFO)
    if target == '-':
        handler = logging.StreamHandler(sys.stdout)
    else:
        os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
        if settings.access_log_max_bytes > 0 and not shared:
            handler = logging.handlers.RotatingFileHandler(
                target, maxBytes=settings.access_log_max_bytes,
                backupCount=settings.access_log_backups)
        else:
            handler = logging.handlers.WatchedFileHandler(target)
    handler.setFormatter(logging.Formatter('%(message)s'))
    logger.addHandler(handler)
    return logger


def limit_malloc_arenas(count):
    """Cap glibc's malloc arenas before the request threads start.

    glibc gives threads up to 8 arenas per core, and memory freed in one arena is not
    reused by the others: with 32 request threads, 5 minutes of bench_soak.py left the
    server's RSS ~30 MB higher and climbing ~60 % faster than with MALLOC_ARENA_MAX=2,
    for the same tile and listing times. mallopt does what that variable does, without
    asking every operator to set it.
    """
    if count <= 0 or not sys.platform.startswith('linux'):
        return False
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        return bool(libc.mallopt(-8, int(count)))  # -8: M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc (musl): nothing to cap
        return False


def _serve_one(settings, reuse_port=False):
    """One server process: the app on cheroot."""
    from .app import create_app, mount
    from .rest.gateway import make_server

    limit_malloc_arenas(settings.malloc_arena_max)
    configure_access_log(settings, shared=reuse_port)
    app = None
    server = None
    stopping = threading.Event()
    drain = threading.Thread(target=lambda: server.stop(), name='tilery-drain', daemon=True)
    try:
        app = create_app(settings)
        server = make_server((settings.host, settings.port), mount(app),
                             numthreads=settings.thread_pool,
                             server_name='tilery',  # no version banner
                             reuse_port=reuse_port, timeout=settings.socket_timeout,
                             head_timeout=settings.request_head_timeout)
        server.max_request_body_size = 0
        server.shutdown_timeout = settings.shutdown_grace  # in-flight requests may finish
        server.prepare()

        def on_signal(signum, frame):
            if not stopping.is_set():
                stopping.set()
                if not reuse_port:
                    print('\nStopping Tilery...', flush=True)
                drain.start()  # cheroot waits for requests in flight up to shutdown_timeout
                _exit_after(settings.shutdown_grace + EXIT_MARGIN_SECONDS)
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        app.start()
        app.events.emit('server.started', app)
        if not reuse_port:
            _announce(settings, server.bind_addr[1])
        server.serve()
    finally:
        if drain.is_alive():
            drain.join()  # the database stays open until requests in flight are done
        if server is not None:
            server.stop()
        if app is not None:
            app.stop()
            app.mongo_client.close()
    return 0


def _exit_after(seconds):
    """Make sure the process ends ``seconds`` from now, whatever it is waiting for (a
    request stuck on a dead database, a plugin that will not stop)."""
    def deadline():
        time.sleep(seconds)
        log.error('Not stopped %.0f s after the signal; exiting now.', seconds)
        logging.shutdown()
        os._exit(1)
    threading.Thread(target=deadline, name='tilery-exit-deadline', daemon=True).start()


def _run_workers(settings, args):
    """Several server processes on one port (SO_REUSEPORT): Python serves HTTP on one
    core per process, so this is how a server uses all of a machine's cores."""
    import urllib.request

    command = [sys.executable, '-m', 'tilery.cli', 'serve', '--reuse-port', '--no-build',
               '--host', settings.host, '--port', str(settings.port), '--data-dir',
               settings.data_dir, '--mongo-uri', settings.mongo_uri]
    if args.config:
        command += ['--config', args.config]
    if settings.debug:
        command.append('--debug')
    # one scrape of /metrics must see every worker: prometheus_client's multiprocess
    # mode, the workers' values in files the answering worker sums (see metrics.py)
    from .database import die_with_parent
    from .metrics import MULTIPROC_ENV, prepare_multiprocess_dir
    metrics_dir = prepare_multiprocess_dir(os.path.join(
        os.path.abspath(settings.data_dir), 'tmp', 'metrics'))
    env = dict(os.environ, **{MULTIPROC_ENV: metrics_dir})
    # a worker whose parent is killed stops too (SIGTERM: it drains, then exits): the
    # database it talks to died with the parent
    children = [subprocess.Popen(command, env=env, preexec_fn=die_with_parent(
        os.getpid(), signal.SIGTERM)) for _ in range(settings.workers)]
    stopping = threading.Event()

    def on_signal(signum, frame):
        if not stopping.is_set():
            stopping.set()
            print('\nStopping Tilery...', flush=True)
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host = settings.host if settings.host not in ('0.0.0.0', '::') else '127.0.0.1'
    url = 'http://%s:%d/api/v1/system/version' % (host, settings.port)
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            _announce(settings, settings.port, settings.workers)
            break
        except OSError:
            if any(child.poll() is not None for child in children):
                break
            time.sleep(0.1)
    # a worker that dies takes the others down with it: better a clear stop than a
    # server that answers some requests and not others
    while not stopping.is_set():
        if any(child.poll() is not None for child in children):
            log.error('A server process exited; stopping the others.')
            on_signal(signal.SIGTERM, None)
            break
        stopping.wait(0.5)
    return _wait_for_workers(children, stopping, settings, metrics_dir)


def _wait_for_workers(children, stopping, settings, metrics_dir):
    """The exit code of workers told to stop; one that does not stop in time is killed."""
    from .metrics import worker_exited
    code = 0
    # each worker ends itself by then (see _exit_after); this is the bound if one cannot
    deadline = time.monotonic() + settings.shutdown_grace + EXIT_MARGIN_SECONDS + 0.5
    for child in children:
        try:
            status = child.wait(max(0.1, deadline - time.monotonic()))
            # a worker still starting when we stop ends by the signal itself: that is fine
            code = (0 if status == -signal.SIGTERM and stopping.is_set() else status) or code
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            code = 1
        worker_exited(child.pid, metrics_dir)
    return code


def backup_command(args):
    """``tilery backup DIR``: a consistent copy of the database and the files, live."""
    from .backup import BackupError, backup
    from .settings import Settings
    settings = Settings.load(args.config, data_dir=args.data_dir, mongo_uri=args.mongo_uri)
    try:
        manifest = backup(args.directory, settings.data_dir, settings.mongo_uri,
                          settings.database)
    except BackupError as exc:
        raise SystemExit('tilery backup: %s' % exc)
    print('Backed up the database (%s, held %.2f s%s) and %d files into %s' % (
        manifest['database'], manifest['databaseSeconds'],
        '' if manifest['pointInTime'] else ', NOT at one point in time',
        manifest['files'], os.path.abspath(args.directory)), flush=True)
    return 0


def restore_command(args):
    """``tilery restore DIR --data-dir NEW``: a backup back into a new data directory."""
    from .backup import BackupError, restore
    try:
        summary = restore(args.directory, args.data_dir, args.mongo_uri)
    except BackupError as exc:
        raise SystemExit('tilery restore: %s' % exc)
    print('Restored database %s and %d files into %s%s. Start it with: tilery serve '
          '--data-dir %s%s' % (
              summary['database'], summary['files'], os.path.abspath(args.data_dir),
              '; %d files had no bytes in the backup' % summary['missing']
              if summary['missing'] else '', args.data_dir,
              ' --mongo-uri ...' if args.mongo_uri else ''), flush=True)
    return 1 if summary['missing'] else 0


def db_command(args):
    """``tilery db``: the embedded database on its own, as a one-node replica set, for web
    processes and workers on this or other machines to share (``--mongo-uri``)."""
    import socket

    from .database import EmbeddedDatabase, supervised_database
    path = os.path.join(os.path.abspath(args.data_dir), 'db')  # where `tilery serve` keeps it
    running = supervised_database(path)
    if running is not None:  # starting would stop it under its supervisor's feet
        raise SystemExit('tilery db: a database already runs on %s (pid %d, port %d, started '
                         'by pid %d); stop that one first.' % (
                             path, running['pid'], running['port'], running['parent']))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        embedded = EmbeddedDatabase(path, host=args.host, port=args.port,
                                    replica_set=True).start()
    except RuntimeError as exc:
        raise SystemExit('tilery db: %s' % exc)
    # a wildcard address is no address to connect to: name this machine instead
    host = socket.getfqdn() if args.host in ('0.0.0.0', '::') else args.host
    print('SecantusDB (pid %d) serves %s; give web processes and workers --mongo-uri '
          '%s' % (embedded.process.pid, path, embedded.uri_for(host)), flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        print('Stopping the database...', flush=True)
        embedded.stop()
    return 0


def worker_command(args):
    """``tilery worker``: run the jobs the servers send through the broker."""
    from .jobs.worker import WorkerError, load_settings, parse_queues, run_worker
    try:
        settings, jobs = load_settings(args.config, args.mongo_uri, args.broker_url,
                                       args.data_dir)
        concurrency = jobs.pool_size if args.concurrency is None else args.concurrency
        if concurrency < 1:
            raise WorkerError('--concurrency must be at least 1.')
        return run_worker(settings, parse_queues(args.queues), concurrency)
    except WorkerError as exc:
        raise SystemExit('tilery worker: %s' % exc)


def list_settings(args):
    """Print every setting with its default and meaning: the server's, then the job
    runner's and each installed plugin's (their ``[plugins.<name>]`` sections)."""
    from . import plugins
    from .app import declared_settings
    from .settings import Settings, declared_fields
    for field in declared_fields(Settings):
        print('%-32s %-24r %s' % (field.name, field.default, field.metadata['doc']))
    found = plugins.discover()
    descriptions = {p.settings.prefix: p.description for p in found.values() if p.settings}
    descriptions['jobs'] = 'Background jobs (conversions, imports)'
    for prefix, group in sorted(declared_settings(found).items()):
        print('\n[plugins.%s]  %s' % (prefix, descriptions[prefix]))
        for key, (default, meaning) in sorted(group.declared().items()):
            print('%-32s %-24r %s' % (key.split('.', 1)[1], default, meaning))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='tilery', description=__doc__)
    parser.add_argument('--version', action='version', version=__version__)
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('serve', help='run the server')
    p.add_argument('--host', help='address to listen on (default 127.0.0.1)')
    p.add_argument('--port', type=int, help='port (default 8080; 0 picks a free one)')
    p.add_argument('--data-dir', help='where the database and files live (./tilery-data)')
    p.add_argument('--mongo-uri', help='use this MongoDB server instead of the embedded one')
    p.add_argument('--config', help='a TOML settings file')
    p.add_argument('--debug', action='store_true', help='tracebacks in error answers')
    p.add_argument('--no-build', action='store_true', help=(
        'accepted for old scripts: serve never builds (scripts/setup.sh does)'))
    p.add_argument('--workers', type=int,
                   help='server processes sharing the port (default 1; one per core serves '
                        'the most tiles)')
    p.add_argument('--reuse-port', action='store_true', help=argparse.SUPPRESS)
    p = sub.add_parser('worker', help='run jobs (conversions, imports) sent by the servers '
                       'through a Celery broker')
    p.add_argument('--mongo-uri', help="the servers' database")
    p.add_argument('--broker-url', help='redis://host:6379/0 or amqp://... (default: the '
                   'jobs.broker_url setting)')
    p.add_argument('--queues', help='queues to take jobs from: default, large or both '
                   '(default: default,large)')
    p.add_argument('--concurrency', type=int,
                   help='jobs run at once (default: the jobs.pool_size setting)')
    p.add_argument('--data-dir', help='where work files go (its tmp/ folder)')
    p.add_argument('--config', help='a TOML settings file')
    sub.add_parser('settings', help='list every setting with its default and meaning')
    p = sub.add_parser('backup', help='copy the database and files into a new directory, '
                       'while Tilery runs')
    p.add_argument('directory', help='where the backup goes (new or empty)')
    p.add_argument('--data-dir', help='the data directory of the Tilery to back up')
    p.add_argument('--mongo-uri', help='back up this MongoDB database instead')
    p.add_argument('--config', help='a TOML settings file')
    p = sub.add_parser('restore', help='bring a backup back into a new data directory')
    p.add_argument('directory', help='a directory made by tilery backup')
    p.add_argument('--data-dir', required=True, help='the new data directory')
    p.add_argument('--mongo-uri', help='restore the database into this (empty) MongoDB '
                   'database instead of an embedded one')
    p = sub.add_parser('db', help='run the embedded database on its own (a one-node replica '
                       'set) for several server and worker processes')
    p.add_argument('--data-dir', required=True, help='where its data lives (in DATA_DIR/db)')
    p.add_argument('--port', type=int, required=True, help='port to listen on')
    p.add_argument('--host', default='127.0.0.1', help='address to listen on (127.0.0.1)')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: '
                        '%(message)s')
    logging.getLogger('cherrypy.access').setLevel(logging.WARNING)
    commands = {'serve': serve, 'worker': worker_command, 'settings': list_settings,
                'backup': backup_command, 'restore': restore_command, 'db': db_command}
    command = commands.get(args.command)
    return command(args) if command is not None else 1


if __name__ == '__main__':
    sys.exit(main())
