import { describe, expect, it } from 'vitest';
import { listQuery, parseListQuery, parseViewUrl, roundSig, viewUrl } from '../src/lib/url-state';

const ITEM = '5f1e2d3c4b5a697887766554';
const A1 = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const A2 = 'bbbbbbbbbbbbbbbbbbbbbbbb';

describe('viewer URL state', () => {
  it('round-trips centre, resolution, frame and annotations', () => {
    const url = viewUrl({ itemId: ITEM, x: 1234.4, y: 987.6, res: 3.14159265, frame: 2, annotations: [A1, A2], edit: A1 });
    expect(url).toBe(`/view/${ITEM}?x=1234&y=988&res=3.142&frame=2&ann=${A1},${A2}&edit=${A1}`);
    const [path, search] = url.split('?');
    expect(parseViewUrl(path, `?${search}`)).toEqual({ itemId: ITEM, x: 1234, y: 988, res: 3.142, frame: 2, annotations: [A1, A2], edit: A1 });
  });

  it('leaves defaults out and reads a bare URL', () => {
    expect(viewUrl({ itemId: ITEM })).toBe(`/view/${ITEM}`);
    expect(viewUrl({ itemId: ITEM, frame: 0, annotations: [] })).toBe(`/view/${ITEM}?ann=`);
    expect(parseViewUrl(`/view/${ITEM}`, '')).toEqual({ itemId: ITEM });
    expect(parseViewUrl(`/view/${ITEM}`, '?ann=')).toEqual({ itemId: ITEM, annotations: [] });
  });

  it('ignores malformed values instead of failing', () => {
    const s = parseViewUrl(`/view/${ITEM}/`, '?x=abc&y=5&res=-2&frame=1.5&ann=zzz,' + A1 + '&edit=nope');
    expect(s).toEqual({ itemId: ITEM, annotations: [A1] });
    expect(parseViewUrl('/view/notanid', '')).toBeNull();
    expect(parseViewUrl('/folder/' + ITEM, '')).toBeNull();
    expect(parseViewUrl(`/view/${ITEM}`, '?x=1')).toEqual({ itemId: ITEM });
  });

  it('rounds to significant digits', () => {
    expect(roundSig(0.000123456, 3)).toBe(0.000123);
    expect(roundSig(98765, 2)).toBe(99000);
    expect(roundSig(0)).toBe(0);
  });
});

describe('list URL state', () => {
  it('parses paging and sorting with defaults and bounds', () => {
    expect(parseListQuery('')).toEqual({ offset: 0, limit: 50, sort: 'lowerName', sortdir: 1 });
    expect(parseListQuery('?offset=100&limit=25&sort=updated&sortdir=-1')).toEqual({ offset: 100, limit: 25, sort: 'updated', sortdir: -1 });
    expect(parseListQuery('?offset=-5&limit=99999&sort=$where&sortdir=7')).toEqual({ offset: 0, limit: 50, sort: 'lowerName', sortdir: 1 });
  });

  it('writes only what differs from the defaults', () => {
    expect(listQuery({ offset: 0, limit: 50, sort: 'lowerName', sortdir: 1 })).toBe('');
    expect(listQuery({ offset: 50, limit: 50, sort: 'size', sortdir: -1 })).toBe('?offset=50&sort=size&sortdir=-1');
  });
});
