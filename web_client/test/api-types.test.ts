// The client's document types come from the server's OpenAPI description:
// src/api-types.ts must be what `npm run gen-types` makes of openapi.json
// (which plugin_tests/test_openapi_contract.py keeps equal to the server's).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('generated API types', () => {
  it('are up to date with openapi.json (run npm run gen-types)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-types-'));
    try {
      const out = join(dir, 'api-types.ts');
      execFileSync(join(root, 'node_modules', '.bin', 'openapi-typescript'), [join(root, 'openapi.json'), '-o', out], { stdio: 'pipe' });
      expect(readFileSync(join(root, 'src', 'api-types.ts'), 'utf8')).toBe(readFileSync(out, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('carry the documents the client reads', () => {
    const text = readFileSync(join(root, 'src', 'api-types.ts'), 'utf8');
    for (const name of ['User', 'Collection', 'Folder', 'Item', 'File', 'Group', 'ApiKey', 'Job', 'TileMetadata', 'Annotation',
      'AccessEntry', 'AccessList', 'Upload', 'ElementLabel', 'PolylineElement', 'LabelMask', 'Tagset']) {
      expect(text).toMatch(new RegExp(`^ {8}${name}: \\{`, 'm'));
    }
    // the element union, generated from the annotation plugin's own element schemas
    expect(text).toMatch(/^ {8}AnnotationElement: components\["schemas"\]\["ArrowElement"\] \| /m);
    expect(text).toMatch(/^ {8}SharedFolder: components\["schemas"\]\["Folder"\] & \{/m);
  });
});
