// The routes of the server's OpenAPI description (api-types.ts, generated) as types:
// which answer JSON to which method, what they answer, and the `{name}` parts of their
// paths. api.ts types every JSON call with these; pure, so tests can check them.
import type { paths } from '../api-types';

export type Method = 'get' | 'put' | 'post' | 'delete';
type JsonOk<T> = { responses: { 200: { content: { 'application/json': T } } } };
/** A route as the description writes it ('/item/{id}') that answers JSON to `method`. */
export type JsonRoute<M extends Method> = { [P in keyof paths]: paths[P][M] extends JsonOk<unknown> ? P : never }[keyof paths];
/** What the server answers to `method` on `route`. */
export type Answer<P extends keyof paths, M extends Method> = paths[P][M] extends JsonOk<infer T> ? T : never;
/** The `{name}` parts of a route, as an object of their values. */
export type PathVars<P extends string> = P extends `${string}{${infer K}}${infer Rest}` ? Record<K, string> & PathVars<Rest> : unknown;
/** Routes answering a list to GET, and the type of one entry. */
export type ListRoute = { [P in JsonRoute<'get'>]: Answer<P, 'get'> extends unknown[] ? P : never }[JsonRoute<'get'>];
export type Entry<P extends ListRoute> = Answer<P, 'get'> extends (infer T)[] ? T : never;

/** The path of a route with its `{name}` parts filled in (URL-encoded). */
export function routePath<P extends string>(route: P, vars: PathVars<P>): string {
  const values: Partial<Record<string, string>> = vars as Partial<Record<string, string>>;
  return route.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
}

