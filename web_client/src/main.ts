// Entry point: the page frame, the routes and the session.
import 'ol/ol.css';
import './styles.css';
import { ApiError, getCurrentUser, onUserChange, restoreSession } from './api';
import { NotificationStream } from './stream';
import { Router } from './router';
import { h } from './ui/dom';
import { errorText } from './ui/notify';
import { createShell } from './ui/shell';
import { apiKeysView } from './views/apikeys';
import { loginView, registerView } from './views/auth';
import { collectionsView, containerView } from './views/browser';
import { itemView } from './views/item';
import { searchView } from './views/search';
import { taggerView } from './views/tagger';
import { uploads } from './views/upload';

const ID = '([0-9a-f]{24})';

function errorPage(err: unknown): HTMLElement {
  const status = (err as { status?: number }).status;
  const signedIn = Boolean(getCurrentUser());
  return h('div.page', null, h('div.error-page', null,
    h('h1', null, status === 404 ? 'Not found' : status === 401 || status === 403 ? 'No access' : 'Something went wrong'),
    h('p', null, errorText(err)),
    (status === 401 || (status === 403 && !signedIn))
      ? h('a.button.primary', { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, 'Sign in')
      : h('a.button', { href: '/' }, 'Go home')));
}

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  let router: Router;
  const go = (path: string) => router.navigate(path);
  const shell = createShell(go);
  root.replaceChildren(shell.root);
  router = new Router(shell.outlet, errorPage);
  // The page's one notification stream, open while someone is signed in.
  const stream = new NotificationStream();
  uploads.stream = stream;
  onUserChange((user) => (user ? stream.start() : stream.stop()));

  try {
    await restoreSession();
  } catch (err) {
    // The server is unreachable: show why instead of a blank page.
    shell.outlet.replaceChildren(errorPage(err instanceof ApiError ? err : new Error(String(err))));
  }

  // Pages that need an account send anonymous visitors to sign in first.
  router.guard = (path) => {
    const user = getCurrentUser();
    if (path === '/' || path === '') return user ? `/user/${user._id}` : '/collections';
    if (!user && /^\/(keys)(\/|\?|$)/.test(path)) return `/login?next=${encodeURIComponent(path)}`;
    if (user && /^\/(login|register)(\?|$)/.test(path)) return new URLSearchParams(path.split('?')[1] ?? '').get('next') || `/user/${user._id}`;
    return null;
  };

  router
    .add(/^\/login\/?$/, (c) => loginView(c.search, go))
    .add(/^\/register\/?$/, (c) => registerView(c.search, go))
    .add(/^\/keys\/?$/, () => apiKeysView())
    .add(/^\/collections\/?$/, () => collectionsView(go))
    .add(new RegExp(`^/collection/${ID}/?$`), (c) => containerView('collection', c.params[0], c.search, go, stream))
    .add(new RegExp(`^/user/${ID}/?$`), (c) => containerView('user', c.params[0], c.search, go, stream))
    .add(new RegExp(`^/folder/${ID}/?$`), (c) => containerView('folder', c.params[0], c.search, go, stream))
    .add(new RegExp(`^/item/${ID}/?$`), (c) => itemView(c.params[0], go, stream))
    .add(new RegExp(`^/tag/${ID}/?$`), (c) => taggerView(c.params[0], c.search, (p) => router.setQuiet(p)))
    .add(/^\/search\/?$/, (c) => searchView(c.search))
    .add(new RegExp(`^/view/${ID}/?$`), async (c) => {
      // The viewer (OpenLayers) loads only when a slide is opened.
      const { viewerView } = await import('./viewer/viewer');
      return viewerView(c.path, c.search, { navigate: go, setQuietUrl: (p) => router.setQuiet(p), setFullBleed: (on) => shell.setFullBleed(on), stream });
    });
  await router.render();
}

void start();
