// Sign in and registration pages.
import { login, register, system } from '../api';
import type { View } from '../router';
import { h, icon } from '../ui/dom';
import { errorText } from '../ui/notify';

function safeNext(search: string): string {
  const next = new URLSearchParams(search).get('next') || '/';
  // Only same-site paths: never redirect to another origin after sign-in.
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

/** A form's submit handler: runs ``action`` with the button disabled, shows its error. */
function submitter(button: HTMLButtonElement, error: HTMLElement, action: () => Promise<void>,
  onError: (err: unknown) => void) {
  return async (e: Event) => {
    e.preventDefault();
    button.disabled = true;
    error.hidden = true;
    try {
      await action();
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
      onError(err);
    } finally {
      button.disabled = false;
    }
  };
}

function authCard(title: string, subtitle: string, form: HTMLElement, footer: HTMLElement): HTMLElement {
  return h('div.auth-page', null,
    h('div.auth-card', null,
      h('div.auth-brand', null, h('span.brand-mark.large', null, 'T'), h('span', null, 'Tilery')),
      h('h1', null, title),
      h('p.muted', null, subtitle),
      form,
      footer));
}

export function loginView(search: string, go: (p: string) => void): View {
  const error = h('div.form-error', { role: 'alert', hidden: true });
  const user = h('input', { name: 'login', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button.button.primary.wide', { type: 'submit' }, 'Sign in');
  const form = h('form.form', {
    onsubmit: submitter(button, error, async () => {
      await login(user.value.trim(), pass.value);
      go(safeNext(search));
    }, () => pass.select()),
  },
  error,
  h('label.field', null, h('span.field-label', null, 'Login or email'), user),
  h('label.field', null, h('span.field-label', null, 'Password'), pass),
  button);
  const footer = h('p.auth-footer', null, 'No account yet? ', h('a', { href: `/register${search}` }, 'Create one'));
  setTimeout(() => user.focus(), 0);
  return { el: authCard('Sign in', 'Slides, annotations and data, shared with your lab.', form, footer) };
}

export function registerView(search: string, go: (p: string) => void): View {
  const error = h('div.form-error', { role: 'alert', hidden: true });
  const fields: Record<string, HTMLInputElement> = {
    login: h('input', { name: 'login', autocomplete: 'username', required: true }),
    email: h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true }),
    firstName: h('input', { name: 'firstName', autocomplete: 'given-name', required: true }),
    lastName: h('input', { name: 'lastName', autocomplete: 'family-name', required: true }),
    password: h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true }),
  };
  const button = h('button.button.primary.wide', { type: 'submit' }, 'Create account');
  const form = h('form.form', {
    onsubmit: submitter(button, error, async () => {
      await register({
        login: fields.login.value.trim(),
        email: fields.email.value.trim(),
        firstName: fields.firstName.value.trim(),
        lastName: fields.lastName.value.trim(),
        password: fields.password.value,
      });
      go(safeNext(search));
    }, (err) => {
      // Registration may be closed on this site; the server says so. Focus the bad field.
      const field = (err as { field?: string }).field;
      if (field && fields[field]) fields[field].focus();
    }),
  },
  error,
  h('div.field-row', null,
    h('label.field', null, h('span.field-label', null, 'First name'), fields.firstName),
    h('label.field', null, h('span.field-label', null, 'Last name'), fields.lastName)),
  h('label.field', null, h('span.field-label', null, 'Login'), fields.login),
  h('label.field', null, h('span.field-label', null, 'Email'), fields.email),
  h('label.field', null, h('span.field-label', null, 'Password'), fields.password),
  button);
  const footer = h('p.auth-footer', null, 'Already registered? ', h('a', { href: `/login${search}` }, 'Sign in'));
  return { el: authCard('Create an account', 'The first account on a new site becomes its administrator.', form, footer) };
}

/** On a site nobody has registered on yet: ask the first visitor to create the admin account. */
export async function firstVisitCard(): Promise<HTMLElement | null> {
  const settings = await system.publicSettings().catch(() => null);
  if (!settings?.noUsersYet) return null;
  return h('section.card.welcome-card', null,
    h('h2', null, 'Welcome to your new Tilery site'),
    h('p', null, 'Nobody has an account here yet. Create the first one: it becomes the site administrator, who can then create collections and invite the lab.'),
    h('a.button.primary', { href: '/register' }, icon('plus'), 'Create the administrator account'));
}
