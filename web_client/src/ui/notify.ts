// Toasts for results and errors; server errors show their own message.
import { ApiError } from '../api';
import { asSentence } from '../lib/text';
import { h, icon } from './dom';

let host: HTMLElement | null = null;

function container(): HTMLElement {
  if (!host || !host.isConnected) {
    host = h('div.toasts', { role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(host);
  }
  return host;
}

/** Show a short message; errors stay until dismissed. */
export function toast(message: string, kind: 'info' | 'success' | 'error' = 'info', ms = 4000): void {
  const el = h(`div.toast.toast-${kind}`, null,
    h('span.toast-text', null, message),
    h('button.icon-button', { title: 'Dismiss', onclick: () => el.remove() }, icon('close', 14)),
  );
  container().appendChild(el);
  if (kind !== 'error') setTimeout(() => el.remove(), ms);
}

/** The text to show a person for any error. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return `${err.message} — please sign in.`;
    if (err.status === 403) return `Not allowed: ${err.message}`;
    // The message names the field in words; forms focus the field itself (err.field).
    return asSentence(err.message);
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Report an error as a toast (and to the console for developers). */
export function showError(err: unknown, context?: string): void {
  if ((err as Error)?.name === 'AbortError') return;
  console.error(context ?? 'Error', err);
  toast(context ? `${context}: ${errorText(err)}` : errorText(err), 'error');
}
