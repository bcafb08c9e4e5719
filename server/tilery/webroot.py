"""Serves the built web client at / (index.html for client-side routes)."""
import os

import cherrypy
from cherrypy.lib import static

PACKAGE_ROOT = os.path.dirname(os.path.abspath(__file__))
#: The page's policy. Scripts, styles, workers and API calls come only from this origin;
#: images may also be blob:/data: URLs (thumbnails and masks the client builds); the
#: client sets styles only through element.style (CSSOM), which style-src does not
#: block, so no 'unsafe-inline' is needed.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self' blob: data:; worker-src 'self' blob:; connect-src 'self'; "
            "font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")
#: Sent with every answer under / (CherryPy's "response.headers.*" config), errors too.
PAGE_HEADERS = {'Content-Security-Policy': PAGE_CSP, 'X-Frame-Options': 'DENY',
                'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'same-origin',
                'Server': 'tilery'}


def page_config():
    """CherryPy config giving every answer under / the page's headers (no version banner)."""
    return {'response.headers.%s' % name.lower(): value for name, value in PAGE_HEADERS.items()}


def default_web_dir():
    """web_client/dist of a source checkout."""
    return os.path.abspath(os.path.join(PACKAGE_ROOT, '..', '..', 'web_client', 'dist'))


class WebRoot:
    def __init__(self, app):
        self.root = os.path.abspath(app.settings.web_client_dir or default_web_dir())

    @cherrypy.expose
    def default(self, *parts, **kwargs):
        index = os.path.join(self.root, 'index.html')
        if not os.path.isfile(index):
            cherrypy.response.headers['Content-Type'] = 'text/html'
            return (b'<!doctype html><title>Tilery</title><p>The Tilery API is at '
                    b'<a href="api/v1/describe">/api/v1</a>. The web client is not built: '
                    b'run <code>npm ci && npm run build</code> in web_client/.</p>')
        path = os.path.abspath(os.path.join(self.root, *parts)) if parts else index
        if not path.startswith(self.root + os.sep) and path != self.root:
            raise cherrypy.HTTPError(404)
        if not os.path.isfile(path):
            path = index  # a client-side route
        if os.path.basename(os.path.dirname(path)) == 'assets':
            # hashed file names: cache for a year
            cherrypy.response.headers['Cache-Control'] = 'public, max-age=31536000, immutable'
        else:
            cherrypy.response.headers['Cache-Control'] = 'no-cache'
        return static.serve_file(path)
