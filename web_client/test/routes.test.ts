// Calls are typed from the server's description: a route and method give the answer's
// type (checked by `npm run typecheck`, which covers this file), and path parts are
// filled in encoded.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { routePath, type Answer, type Entry, type JsonRoute, type PathVars } from '../src/lib/routes';
import type { Annotation, AnnotationElement, GirderFile, Item, SharedFolder, Upload, User } from '../src/types';

describe('routes from the API description', () => {
  it('fill their {name} parts, encoded', () => {
    expect(routePath('/annotation/{id}/history/{version}', { id: 'abc', version: '3' })).toBe('/annotation/abc/history/3');
    expect(routePath('/folder/{id}/labels/classes', { id: 'a/b c' })).toBe('/folder/a%2Fb%20c/labels/classes');
    expect(routePath('/user', {})).toBe('/user');
  });

  it('give each call the type the server answers with', () => {
    expectTypeOf<Answer<'/item/{id}', 'get'>>().toEqualTypeOf<Item>();
    expectTypeOf<Answer<'/file', 'post'>>().toEqualTypeOf<Upload | GirderFile>();
    expectTypeOf<Answer<'/user/me', 'get'>>().toEqualTypeOf<User | null>();
    expectTypeOf<Answer<'/annotation/folder/{id}/create', 'get'>>().toEqualTypeOf<boolean>();
    expectTypeOf<Entry<'/resource/shared'>>().toEqualTypeOf<SharedFolder>();
    expectTypeOf<Entry<'/annotation'>>().toEqualTypeOf<Annotation>();
    expectTypeOf<NonNullable<Annotation['annotation']['elements']>[number]>().toEqualTypeOf<AnnotationElement>();
    expectTypeOf<PathVars<'/item/{itemId}/labels'>>().toEqualTypeOf<Record<'itemId', string> & unknown>();
  });

  it('refuse a route that does not answer JSON to that method, or a missing path part', () => {
    // @ts-expect-error: DELETE /user/me is no route
    const wrongMethod: JsonRoute<'delete'> = '/user/me';
    // @ts-expect-error: the item id is missing
    const missing = () => routePath('/item/{id}', {});
    expect([wrongMethod, typeof missing]).toEqual(['/user/me', 'function']);
  });
});
