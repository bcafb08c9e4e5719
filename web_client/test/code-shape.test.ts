// A function a reader cannot hold in their head can only be tested end to end:
// no function, method or arrow function in src/ may span more than 120 lines.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const MAX_LINES = 120;
const srcDir = join(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every function-like node of a source text, with its name and line span. */
function longFunctions(fileName: string, text: string, maxLines: number): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const first = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const last = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > maxLines) {
        const name = (node as ts.FunctionLikeDeclaration).name?.getText(file) ?? '(anonymous)';
        found.push(`${fileName}:${first + 1} ${name} spans ${lines} lines`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('code shape', () => {
  it('finds a long function, arrow function and method', () => {
    const body = Array.from({ length: 5 }, (_, i) => `  const a${i} = ${i};`).join('\n');
    const text = `function f() {\n${body}\n}\nconst g = () => {\n${body}\n};\nclass C { m() {\n${body}\n} }\n`;
    expect(longFunctions('x.ts', text, 6)).toHaveLength(3);
    expect(longFunctions('x.ts', text, 7)).toHaveLength(0);
  });

  it(`keeps every function in src/ within ${MAX_LINES} lines`, () => {
    const files = sourceFiles(srcDir);
    expect(files.length).toBeGreaterThan(10);
    const long = files.flatMap((f) => longFunctions(relative(srcDir, f), readFileSync(f, 'utf8'), MAX_LINES));
    expect(long).toEqual([]);
  });
});
