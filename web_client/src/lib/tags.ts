// Fast tagging: a folder's tag set ({code, alias, key} per tag) and the tag
// codes each item carries in `meta.tags`. Keys toggle tags; as in the fast
// tagging tool, "f" means "no tag" and moves on.

export interface Tag {
  code: string;
  alias: string;
  key: string | null;
}

export interface TagSetup {
  tags: Tag[];
  /** Several tags per image; otherwise a key sets the one tag and moves on. */
  multiple: boolean;
}

/** Default keys in tag order (the server's order); "f" and space are reserved. */
export const DEFAULT_KEYS = '1234567890qwertyuiopasdghjklzxcvbnm';
export const NONE_KEY = 'f';

/** Normalise a tag set answer (GET /folder/:id/tagset). */
export function parseTagset(raw: unknown): TagSetup {
  const obj = (raw ?? {}) as { tags?: unknown; multiple?: unknown };
  const list = Array.isArray(obj.tags) ? obj.tags : [];
  const used = new Set<string>();
  const tags: Tag[] = [];
  list.forEach((t, i) => {
    const entry = (typeof t === 'object' && t ? t : { code: t }) as { code?: unknown; alias?: unknown; key?: unknown };
    const code = String(entry.code ?? '').trim();
    if (!code || tags.some((x) => x.code === code)) return;
    let key = typeof entry.key === 'string' && entry.key.length === 1 ? entry.key.toLowerCase() : null;
    if (!key) key = [...DEFAULT_KEYS].find((k, j) => j >= i && !used.has(k)) ?? null;
    if (key && (used.has(key) || key === NONE_KEY || key === ' ')) key = null;
    if (key) used.add(key);
    tags.push({ code, alias: String(entry.alias ?? '').trim() || code, key });
  });
  return { tags, multiple: Boolean(obj.multiple) };
}

/** Tag definitions kept in folder metadata (`meta.tags`, `meta.tagMode`), for servers without tag sets. */
export function tagSetupFromMeta(meta: Record<string, unknown> | undefined): TagSetup {
  const raw = meta?.tags;
  const names = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(',') : [];
  const setup = parseTagset({ tags: names.map((n) => ({ code: n.trim(), alias: n.trim() })) });
  return { ...setup, multiple: meta?.tagMode !== 'single' };
}

/** The tag a key toggles. */
export function tagForKey(key: string, setup: TagSetup): Tag | undefined {
  const k = key.toLowerCase();
  return setup.tags.find((t) => t.key === k);
}

/** Tag codes of an item (from `meta.tags`). */
export function itemTags(meta: Record<string, unknown> | undefined): string[] {
  const raw = meta?.tags;
  if (Array.isArray(raw)) return raw.map(String);
  if (typeof raw === 'string' && raw) return [raw];
  return [];
}

/**
 * The tags after pressing a tag's key: with several tags per image it toggles
 * (keeping the tag set's order); with one, it sets that tag, as the fast
 * tagging tool does before moving on (F is how to clear).
 */
export function pressTag(current: string[], code: string, setup: TagSetup): string[] {
  if (!setup.multiple) return [code];
  const has = current.includes(code);
  const next = has ? current.filter((t) => t !== code) : [...current, code];
  const order = (c: string) => {
    const i = setup.tags.findIndex((t) => t.code === c);
    return i < 0 ? setup.tags.length : i;
  };
  return next.sort((a, b) => order(a) - order(b));
}

/** Index of the next item to show, moving by `step`, optionally skipping tagged ones. */
export function nextIndex(tagsPerItem: string[][], current: number, step: 1 | -1, untaggedOnly = false): number {
  const n = tagsPerItem.length;
  for (let i = current + step; i >= 0 && i < n; i += step) {
    if (!untaggedOnly || tagsPerItem[i].length === 0) return i;
  }
  return current;
}

/** Parse the "Edit tags" text: one tag per line as "code", "code = alias" or "code = alias [key]". */
export function parseTagLines(text: string): Array<{ code: string; alias: string; key?: string }> {
  return text.split(/\n|,/).map((line) => line.trim()).filter(Boolean).map((line) => {
    const m = /^(.*?)(?:\s*=\s*(.*?))?(?:\s*\[(.)\])?$/.exec(line)!;
    const code = m[1].trim();
    const out: { code: string; alias: string; key?: string } = { code, alias: (m[2] ?? '').trim() || code };
    if (m[3]) out.key = m[3].toLowerCase();
    return out;
  });
}

/** The text form of a tag set for editing. */
export function tagLines(setup: TagSetup): string {
  return setup.tags.map((t) => `${t.code}${t.alias !== t.code ? ` = ${t.alias}` : ''}${t.key ? ` [${t.key}]` : ''}`).join('\n');
}
