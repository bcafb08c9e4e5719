import { describe, expect, it } from 'vitest';
import { asSentence, fileRole, middleEllipsis } from '../src/lib/text';

describe('middleEllipsis', () => {
  it('keeps short names whole', () => {
    expect(middleEllipsis('nuclei')).toBe('nuclei');
    expect(middleEllipsis('x'.repeat(40))).toBe('x'.repeat(40));
    expect(middleEllipsis('Annotation 2026-11-29 21:05:07')).toBe('Annotation 2026-11-29 21:05:07');
  });

  it('keeps default annotation names apart by their time', () => {
    const a = middleEllipsis('Annotation 2026-11-29 21:05:07', 26);
    const b = middleEllipsis('Annotation 2026-11-29 21:06:41', 26);
    expect(a).not.toBe(b);
    expect(a.length).toBe(26);
    expect(a.endsWith('21:05:07')).toBe(true);
    expect(a.startsWith('Annotation')).toBe(true);
  });
});

describe('fileRole', () => {
  const item = {
    labelMasks: { u1: { fileId: 'f2', login: 'alice', status: 'done' as const }, u2: { fileId: 'f3', login: 'bob', status: 'checkpoint' as const } },
    largeImage: { fileId: 'f4', originalId: 'f1' },
  };

  it('names label masks with their labeller and status', () => {
    expect(fileRole(item, 'f2')).toBe('Label mask of alice (done)');
    expect(fileRole(item, 'f3')).toBe('Label mask of bob (in progress)');
  });

  it('names a converted image and leaves ordinary files alone', () => {
    expect(fileRole(item, 'f4')).toBe('Converted large image');
    expect(fileRole(item, 'f1')).toBeNull();
    expect(fileRole({}, 'f1')).toBeNull();
  });
});

describe('asSentence', () => {
  it('leaves a sentence alone and never appends the field name', () => {
    expect(asSentence('Password must be at least 6 characters.')).toBe('Password must be at least 6 characters.');
  });

  it('capitalises and closes a fragment', () => {
    expect(asSentence('  name must not be empty ')).toBe('Name must not be empty.');
    expect(asSentence('Is this right?')).toBe('Is this right?');
    expect(asSentence('')).toBe('');
  });
});
