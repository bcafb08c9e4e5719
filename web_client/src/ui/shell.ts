// The page frame: header with navigation, search and the user menu.
import { getCurrentUser, logout, onUserChange } from '../api';
import type { User } from '../types';
import { h, icon, replace } from './dom';
import { showError } from './notify';

export interface Shell {
  root: HTMLElement;
  outlet: HTMLElement;
  setFullBleed(on: boolean): void;
}

/** Build the app frame; `go` navigates inside the app. */
export function createShell(go: (path: string) => void): Shell {
  const userArea = h('div.header-user');
  const search = h('input.header-search', {
    type: 'search',
    placeholder: 'Search by name…',
    'aria-label': 'Search by name',
    onkeydown: (e: KeyboardEvent) => {
      if (e.key === 'Enter' && search.value.trim()) go(`/search?q=${encodeURIComponent(search.value.trim())}`);
    },
  });
  const nav = h('nav.header-nav');
  const header = h('header.header', null,
    h('a.brand', { href: '/' }, h('span.brand-mark', null, 'T'), 'Tilery'),
    nav,
    h('div.header-search-wrap', null, icon('search', 15), search),
    userArea,
  );
  const outlet = h('main.outlet');
  const root = h('div.app', null, header, outlet);

  const renderUser = (user: User | null) => {
    replace(nav,
      h('a', { href: '/collections' }, 'Collections'),
      user ? h('a', { href: `/user/${user._id}` }, 'My files') : null,
    );
    if (!user) {
      replace(userArea, h('a.button.small', { href: '/login' }, 'Sign in'));
      return;
    }
    const menu = h('div.menu', { hidden: true },
      h('div.menu-title', null, `${user.firstName} ${user.lastName}`, h('div.muted', null, user.login)),
      h('a.menu-item', { href: `/user/${user._id}` }, icon('folder'), 'My files'),
      h('a.menu-item', { href: '/keys' }, icon('key'), 'API keys'),
      h('button.menu-item', {
        onclick: async () => {
          try {
            await logout();
            go('/login');
          } catch (err) {
            showError(err, 'Sign out failed');
          }
        },
      }, icon('logout'), 'Sign out'),
    );
    const toggle = h('button.user-button', {
      'aria-haspopup': 'true',
      onclick: (e: MouseEvent) => {
        e.stopPropagation();
        menu.hidden = !menu.hidden;
      },
    }, h('span.avatar', null, (user.firstName[0] ?? user.login[0] ?? '?').toUpperCase()), h('span.user-name', null, user.login));
    document.addEventListener('click', () => (menu.hidden = true));
    replace(userArea, toggle, menu);
  };
  renderUser(getCurrentUser());
  onUserChange(renderUser);

  return {
    root,
    outlet,
    setFullBleed(on: boolean) {
      root.classList.toggle('full-bleed', on);
    },
  };
}
