"""The ``tilery`` command: ``tilery serve`` runs the server (and, by default, its database)."""
import argparse
import logging
import os
import signal
import subprocess
import sys
import threading

from . import __version__

log = logging.getLogger('tilery')


def build_web_client(force=False):
    """Build web_client/dist when it is missing or older than its sources (needs npm)."""
    from .webroot import default_web_dir
    dist = default_web_dir()
    source = os.path.dirname(dist)
    if not os.path.isfile(os.path.join(source, 'package.json')):
        return None
    newest_source = 0
    for base in ('src', 'index.html', 'package.json', 'package-lock.json', 'vite.config.ts'):
        path = os.path.join(source, base)
        for root, _, files in os.walk(path) if os.path.isdir(path) else [('', [], [path])]:
            for name in files:
                full = os.path.join(root, name)
                if os.path.exists(full):
                    newest_source = max(newest_source, os.path.getmtime(full))
    index = os.path.join(dist, 'index.html')
    if not force and os.path.isfile(index) and os.path.getmtime(index) >= newest_source:
        return dist
    npm = 'npm'
    try:
        if not os.path.isdir(os.path.join(source, 'node_modules')):
            print('Installing the web client\'s packages (npm ci)...', flush=True)
            subprocess.run([npm, 'ci', '--no-audit', '--no-fund'], cwd=source, check=True)
        print('Building the web client (npm run build)...', flush=True)
        subprocess.run([npm, 'run', 'build'], cwd=source, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        log.warning('The web client could not be built (%s); serving the API only.', exc)
        return None
    return dist


def serve(args):
    """Run the HTTP server until Ctrl-C or SIGTERM."""
    import cheroot.wsgi

    from .app import create_app, mount
    from .database import EmbeddedDatabase
    from .settings import Settings

    settings = Settings.load(args.config, host=args.host, port=args.port,
                             data_dir=args.data_dir, mongo_uri=args.mongo_uri,
                             debug=args.debug or None)
    os.makedirs(settings.data_dir, exist_ok=True)
    if not args.no_build:
        build_web_client()
    embedded = None
    if not settings.mongo_uri:
        path = os.path.join(settings.data_dir, 'db')
        print('Starting the embedded database (SecantusDB) in %s ...' % path, flush=True)
        embedded = EmbeddedDatabase(path).start()
        settings.mongo_uri = embedded.uri
    app = None
    server = None
    stopping = threading.Event()
    try:
        app = create_app(settings)
        tree = mount(app)
        server = cheroot.wsgi.Server((settings.host, settings.port), tree,
                                     numthreads=settings.thread_pool,
                                     server_name='tilery/%s' % __version__)
        server.max_request_body_size = 0
        server.prepare()

        def on_signal(signum, frame):
            if not stopping.is_set():
                stopping.set()
                print('\nStopping Tilery...', flush=True)
                threading.Thread(target=server.stop, daemon=True).start()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        app.start()
        host = settings.host if settings.host not in ('0.0.0.0', '::') else 'localhost'
        port = server.bind_addr[1]
        app.events.emit('server.started', app)
        print('Tilery %s is running. Open http://%s:%d/ in your browser (API at '
              'http://%s:%d/api/v1). Press Ctrl-C to stop.' % (__version__, host, port, host,
                                                                 port), flush=True)
        server.serve()
    finally:
        if server is not None:
            server.stop()
        if app is not None:
            app.stop()
            app.mongo_client.close()
        if embedded is not None:
            embedded.stop()
    return 0


def list_settings(args):
    """Print every setting: the server's, then each installed plugin's."""
    import dataclasses

    from . import plugins
    from .settings import Settings
    for field in dataclasses.fields(Settings):
        if field.name != 'extra':
            print('%-32s %r' % (field.name, field.default))
    from .jobs.settings import JobSettings
    sections = [('jobs', 'Background jobs (conversions, imports)', JobSettings.declared())]
    sections += [(name, plugin.description, plugin.settings)
                 for name, plugin in sorted(plugins.discover().items())]
    for name, description, declared in sections:
        print('\n[plugins.%s]  %s' % (name, description))
        for key, (default, meaning) in sorted(declared.items()):
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
    p.add_argument('--no-build', action='store_true', help='do not build the web client')
    sub.add_parser('settings', help='list every setting with its default')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: '
                        '%(message)s')
    logging.getLogger('cherrypy.access').setLevel(logging.WARNING)
    if args.command == 'serve':
        return serve(args)
    if args.command == 'settings':
        return list_settings(args)
    return 1


if __name__ == '__main__':
    sys.exit(main())
