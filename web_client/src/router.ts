// Client-side routes with the History API; the server answers index.html
// for unknown non-API paths, so every route below is a real, shareable URL.

export interface View {
  el: HTMLElement;
  /** Called when leaving the view: stop timers, maps, listeners. */
  destroy?(): void;
  /** Called when only the query string changed (e.g. list paging). */
  update?(search: string): boolean;
}

export interface RouteContext {
  params: string[];
  search: string;
  path: string;
}

type RouteHandler = (ctx: RouteContext) => Promise<View> | View;

interface Route {
  pattern: RegExp;
  handler: RouteHandler;
}

export class Router {
  private routes: Route[] = [];
  private current: View | null = null;
  private currentPath = '';
  private token = 0;
  /** Run before each navigation; return a path to redirect. */
  guard: (path: string) => string | null = () => null;

  constructor(private readonly outlet: HTMLElement, private readonly onError: (err: unknown) => HTMLElement) {
    window.addEventListener('popstate', () => this.render());
    document.addEventListener('click', (e) => this.interceptLink(e));
  }

  add(pattern: RegExp, handler: RouteHandler): this {
    this.routes.push({ pattern, handler });
    return this;
  }

  /** Go to a path (pushes history unless replace). */
  navigate(path: string, replace = false): void {
    if (replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    void this.render();
  }

  /** Change the query string without re-rendering (for view state such as map position). */
  setQuiet(path: string): void {
    history.replaceState(null, '', path);
    this.currentPath = location.pathname;
  }

  async render(): Promise<void> {
    const path = location.pathname;
    const search = location.search;
    const redirect = this.guard(path + search);
    if (redirect && redirect !== path + search) {
      history.replaceState(null, '', redirect);
      return this.render();
    }
    if (this.current && path === this.currentPath && this.current.update?.(search)) return;
    const token = ++this.token;
    const route = this.routes.find((r) => r.pattern.test(path));
    this.current?.destroy?.();
    this.current = null;
    this.currentPath = path;
    this.outlet.replaceChildren(Object.assign(document.createElement('div'), { className: 'loading', textContent: 'Loading…' }));
    let view: View;
    try {
      if (!route) throw Object.assign(new Error(`There is no page at ${path}.`), { status: 404 });
      view = await route.handler({ params: (route.pattern.exec(path) ?? []).slice(1), search, path });
    } catch (err) {
      view = { el: this.onError(err) };
    }
    if (token !== this.token) {
      view.destroy?.();
      return;
    }
    this.current = view;
    this.outlet.replaceChildren(view.el);
    window.scrollTo(0, 0);
  }

  private interceptLink(e: MouseEvent): void {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download') || a.dataset.external !== undefined) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    e.preventDefault();
    this.navigate(url.pathname + url.search);
  }
}
