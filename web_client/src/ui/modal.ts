// Modal dialogs: a generic one, confirm, and a small form prompt.
import { errorText } from './notify';
import { h, icon } from './dom';

export interface Dialog {
  el: HTMLElement;
  body: HTMLElement;
  footer: HTMLElement;
  close(): void;
  /** Show an error inside the dialog (kept open so input is not lost). */
  setError(err: unknown): void;
}

/** Open a dialog; Escape or the close button dismiss it. */
export function openDialog(title: string, opts: { wide?: boolean; onClose?: () => void } = {}): Dialog {
  const previous = document.activeElement as HTMLElement | null;
  const error = h('div.form-error', { role: 'alert', hidden: true });
  const body = h('div.dialog-body');
  const footer = h('div.dialog-footer');
  const close = () => {
    backdrop.remove();
    document.removeEventListener('keydown', onKey, true);
    opts.onClose?.();
    previous?.focus?.();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      close();
    }
  };
  const dialog = h(`div.dialog${opts.wide ? '.dialog-wide' : ''}`, { role: 'dialog', 'aria-modal': 'true', 'aria-label': title },
    h('div.dialog-header', null, h('h2', null, title), h('button.icon-button', { title: 'Close', onclick: close }, icon('close'))),
    error, body, footer);
  const backdrop = h('div.backdrop', { onmousedown: (e: MouseEvent) => e.target === backdrop && close() }, dialog);
  document.body.appendChild(backdrop);
  document.addEventListener('keydown', onKey, true);
  return {
    el: dialog,
    body,
    footer,
    close,
    setError(err: unknown) {
      error.textContent = err ? errorText(err) : '';
      error.hidden = !err;
    },
  };
}

/** Ask a yes/no question. */
export function confirmDialog(title: string, message: string, action = 'Delete', danger = true): Promise<boolean> {
  return new Promise((resolve) => {
    let answered = false;
    const d = openDialog(title, { onClose: () => !answered && resolve(false) });
    d.body.append(h('p', null, message));
    const ok = h(`button.button${danger ? '.danger' : '.primary'}`, {
      onclick: () => {
        answered = true;
        d.close();
        resolve(true);
      },
    }, action);
    d.footer.append(h('button.button', { onclick: () => d.close() }, 'Cancel'), ok);
    ok.focus();
  });
}

export interface Field {
  name: string;
  label: string;
  value?: string;
  type?: 'text' | 'textarea' | 'password' | 'email' | 'select' | 'checkbox';
  options?: Array<[string, string]>;
  required?: boolean;
  placeholder?: string;
  hint?: string;
}

/**
 * A form dialog; `submit` runs with the values and may throw to show an error
 * (the dialog stays open). Resolves with submit's result, or null if cancelled.
 */
export function formDialog<T>(title: string, fields: Field[], submitLabel: string, submit: (values: Record<string, string>) => Promise<T>): Promise<T | null> {
  return new Promise((resolve) => {
    let done = false;
    const d = openDialog(title, { onClose: () => !done && resolve(null) });
    const inputs = new Map<string, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>();
    const form = h('form.form', {
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const values: Record<string, string> = {};
        inputs.forEach((input, name) => {
          values[name] = input instanceof HTMLInputElement && input.type === 'checkbox' ? String(input.checked) : input.value;
        });
        button.disabled = true;
        d.setError(null);
        try {
          const result = await submit(values);
          done = true;
          d.close();
          resolve(result);
        } catch (err) {
          d.setError(err);
          const field = (err as { field?: string }).field;
          if (field && inputs.has(field)) inputs.get(field)!.focus();
        } finally {
          button.disabled = false;
        }
      },
    });
    for (const f of fields) {
      let input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
      if (f.type === 'textarea') input = h('textarea', { name: f.name, rows: 3, placeholder: f.placeholder ?? '' });
      else if (f.type === 'select') input = h('select', { name: f.name }, (f.options ?? []).map(([v, l]) => h('option', { value: v }, l)));
      else input = h('input', { name: f.name, type: f.type ?? 'text', required: f.required, placeholder: f.placeholder ?? '' });
      if (f.type === 'checkbox') (input as HTMLInputElement).checked = f.value === 'true';
      // A select without a value keeps its first option (value '' would match none: blank).
      else if (f.type !== 'select' || f.value !== undefined) input.value = f.value ?? '';
      inputs.set(f.name, input);
      form.append(f.type === 'checkbox'
        ? h('label.check', null, input, f.label)
        : h('label.field', null, h('span.field-label', null, f.label), input, f.hint ? h('span.hint', null, f.hint) : null));
    }
    const button = h('button.button.primary', { type: 'submit' }, submitLabel);
    form.append(h('div.dialog-footer.inline', null, h('button.button', { type: 'button', onclick: () => d.close() }, 'Cancel'), button));
    d.body.append(form);
    d.footer.remove();
    const first = inputs.values().next().value as HTMLElement | undefined;
    first?.focus();
    if (first instanceof HTMLInputElement) first.select();
  });
}
