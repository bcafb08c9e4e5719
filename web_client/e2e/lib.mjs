// Shared by the end-to-end tests and bench/bench_web.mjs: start a real
// `tilery serve`, talk to its API from Node, launch Debian's Chromium, and
// make test images. Nothing here is mocked.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_DIR = resolve(here, '..');
export const REPO_DIR = resolve(WEB_DIR, '..');
const require = createRequire(join(WEB_DIR, 'package.json'));
const { chromium } = require('playwright-core');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** The command that starts the server, up to and including "serve". */
export function tileryCommand() {
  if (process.env.TILERY_CMD) {
    // Either the whole command ("tilery serve") or just the program.
    const parts = process.env.TILERY_CMD.split(/\s+/).filter(Boolean);
    return parts.includes('serve') ? parts : [...parts, 'serve'];
  }
  for (const bin of [join(REPO_DIR, '.venv/bin/tilery')]) {
    if (existsSync(bin)) return [bin, 'serve'];
  }
  return ['tilery', 'serve'];
}

/** The Python that has large_image's dependencies (numpy, tifffile, pyvips). */
export function pythonCommand() {
  if (process.env.TILERY_PYTHON) return process.env.TILERY_PYTHON;
  for (const bin of [join(REPO_DIR, '.venv/bin/python')]) {
    if (existsSync(bin)) return bin;
  }
  return 'python3';
}

/** Write e2e/images.py's TIFFs (multi-frame, with label and macro, strip) to a temp dir. */
export function makeTiffs() {
  const dir = mkdtempSync(join(tmpdir(), 'tilery-tiffs-'));
  const r = spawnSync(pythonCommand(), [join(here, 'images.py'), dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('e2e/images.py failed');
  return { channels: join(dir, 'channels.tif'), labelled: join(dir, 'labelled.tif'), strip: join(dir, 'strip.tif') };
}

/** Build dist/ so the server serves the current client. */
export function buildClient() {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: WEB_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run build failed');
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start `tilery serve` on a free port with a scratch data dir, or use
 * TILERY_URL when set. Resolves once the API answers.
 */
export async function startServer({ log = false, env = {} } = {}) {
  if (process.env.TILERY_URL) {
    const url = process.env.TILERY_URL.replace(/\/$/, '');
    await waitForApi(url, 30000);
    return { url, stop: async () => undefined };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'tilery-e2e-'));
  const [cmd, ...args] = tileryCommand();
  const child = spawn(cmd, [...args, '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--no-build'], {
    cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  let output = '';
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`tilery serve did not start in 90 s:\n${output}`)), 90000);
    const onData = (buf) => {
      const text = buf.toString();
      output += text;
      if (log) process.stderr.write(text);
      const m = /Open (http:\/\/[^/\s]+)\//.exec(output);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tilery serve exited with ${code}:\n${output.slice(-3000)}`));
    });
  });
  child.removeAllListeners('exit');
  await waitForApi(url, 30000);
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            r();
          }, 15000);
          child.on('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitForApi(url, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`${url}/api/v1/system/version`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`${url} did not answer`);
    await wait(200);
  }
}

/** A small REST client for setting up data from Node. */
export class Api {
  constructor(base) {
    this.base = `${base}/api/v1`;
    this.token = null;
  }

  async call(method, path, { params, json, body, headers } = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params ?? {})) {
      if (v !== undefined && v !== null) q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
    }
    const h = { ...(headers ?? {}) };
    if (this.token) h['Girder-Token'] = this.token;
    let data = body;
    if (json !== undefined) {
      h['Content-Type'] = 'application/json';
      data = JSON.stringify(json);
    }
    const r = await fetch(`${this.base}/${path}${q.size ? `?${q}` : ''}`, { method, headers: h, body: data });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }

  async login(login, password) {
    const r = await this.call('GET', 'user/authentication', {
      headers: { Authorization: `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}` },
    });
    this.token = r.authToken.token;
    return r.user;
  }

  async createUser(login, password, first = 'Test', last = 'User') {
    return this.call('POST', 'user', { params: { login, password, email: `${login}@example.org`, firstName: first, lastName: last } });
  }

  /** A user's Private folder. */
  async privateFolder(userId) {
    const list = await this.call('GET', 'folder', { params: { parentType: 'user', parentId: userId, name: 'Private' } });
    return list[0];
  }

  /** Upload bytes as a new item in a folder (girder-client's flow) and return the file. */
  async upload(folderId, name, bytes, mimeType = 'application/octet-stream') {
    const up = await this.call('POST', 'file', { params: { parentType: 'folder', parentId: folderId, name, size: bytes.length, mimeType } });
    return this.call('POST', 'file/chunk', { params: { uploadId: up._id, offset: 0 }, body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  }

  /** Wait until an item is a large image with tiles. */
  async waitForLargeImage(itemId, timeoutMs = 120000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const item = await this.call('GET', `item/${itemId}`);
      if (item.largeImage && !item.largeImage.expected) return item;
      if (item.largeImage?.jobId) {
        const job = await this.call('GET', `job/${item.largeImage.jobId}`);
        if (job.status === 4 || job.status === 5) throw new Error(`Conversion failed: ${JSON.stringify(job.log).slice(-500)}`);
      }
      if (Date.now() > end) throw new Error('Conversion did not finish');
      await wait(300);
    }
  }
}

/** An RGB PNG of a tissue-like pattern (pure Node, no image library). */
export function makePng(width, height, seed = 1) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  const cell = 180;
  // One "cell nucleus" per grid cell, jittered by a hash of the cell index.
  const hash = (a, b) => {
    let x = (a * 374761393 + b * 668265263 + seed * 2246822519) | 0;
    x = Math.imul(x ^ (x >>> 13), 1274126177);
    return ((x ^ (x >>> 16)) >>> 0) / 4294967296;
  };
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    const gy = Math.floor(y / cell);
    for (let x = 0; x < width; x += 1) {
      const gx = Math.floor(x / cell);
      const cx = (gx + 0.25 + hash(gx, gy) * 0.5) * cell;
      const cy = (gy + 0.25 + hash(gy, gx) * 0.5) * cell;
      const r = cell * (0.2 + hash(gx + 7, gy + 3) * 0.2);
      const d = Math.hypot(x - cx, y - cy);
      const v = d < r ? 1 - d / r : 0;
      const t = 0.5 + 0.5 * Math.sin(x / 41) * Math.cos(y / 57);
      const o = row + 1 + x * 3;
      raw[o] = Math.round(238 - v * 110 - t * 20);
      raw[o + 1] = Math.round(222 - v * 160 - t * 35);
      raw[o + 2] = Math.round(236 - v * 70 - t * 10);
    }
  }
  return encodePng(width, height, 2, raw);
}

/** A grayscale PNG of class values: `value(x, y)` per pixel (for label masks). */
export function makeGrayPng(width, height, value) {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) raw[y * (width + 1) + 1 + x] = value(x, y);
  }
  return encodePng(width, height, 0, raw);
}

/** PNG bytes from filtered scanlines (filter byte 0 per row); colour type 0 gray, 2 RGB. */
function encodePng(width, height, colorType, raw) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** `count` elements alternating rectangles and closed 6-point polygons spread over the image. */
export function manyElements(count, sizeX, sizeY) {
  const out = new Array(count);
  const cols = Math.ceil(Math.sqrt((count * sizeX) / sizeY));
  const step = sizeX / cols;
  for (let i = 0; i < count; i += 1) {
    const cx = ((i % cols) + 0.5) * step;
    const cy = (Math.floor(i / cols) + 0.5) * step;
    const r = step * 0.35;
    if (i % 2 === 0) {
      out[i] = { type: 'rectangle', center: [cx, cy, 0], width: r * 1.6, height: r * 1.2, lineColor: '#00c853', fillColor: 'rgba(0,200,83,0.25)', lineWidth: 1 };
    } else {
      out[i] = {
        type: 'polyline', closed: true, lineColor: '#ff6d00', fillColor: 'rgba(255,109,0,0.25)', lineWidth: 1,
        points: Array.from({ length: 6 }, (_, k) => [cx + r * Math.cos((k * Math.PI) / 3), cy + r * Math.sin((k * Math.PI) / 3), 0]),
      };
    }
  }
  return out;
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Poll `fn` until it returns a truthy value (a wait on a condition, not a fixed sleep). */
export async function until(fn, { timeout = 30000, interval = 100, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`Timed out waiting for ${message}${last instanceof Error ? `: ${last.message}` : ''}`);
    await wait(interval);
  }
}

/** Frames per second while the view pans in a circle, marked as an interaction like a drag. */
export async function panFps(page, seconds) {
  return page.evaluate(async (secs) => {
    const { map } = window.__tilery;
    const view = map.getView();
    const c = view.getCenter();
    const res = view.getResolution();
    const size = map.getSize();
    const rx = (size[0] * res) / 4;
    const ry = (size[1] * res) / 4;
    let frames = 0;
    const count = () => (frames += 1);
    map.on('postrender', count);
    const start = performance.now();
    // Mark the pan as an interaction, as a mouse drag does, so layers draw
    // their current buffers instead of rebuilding them every frame.
    view.beginInteraction();
    await new Promise((resolve) => {
      const step = () => {
        const t = (performance.now() - start) / 1000;
        view.setCenter([c[0] + Math.sin(t * 2) * rx, c[1] + Math.cos(t * 2) * ry]);
        if (t < secs) requestAnimationFrame(step);
        else resolve(null);
      };
      requestAnimationFrame(step);
    });
    view.endInteraction();
    map.un('postrender', count);
    return frames / ((performance.now() - start) / 1000);
  }, seconds);
}

/**
 * A static web site of another origin than Tilery's, as a third-party viewer
 * site would be: serves e2e/openseadragon.html and OpenSeadragon's script.
 */
export async function startStaticSite() {
  const files = {
    '/openseadragon.html': ['text/html; charset=utf-8', readFileSync(join(here, 'openseadragon.html'))],
    '/openseadragon.min.js': ['text/javascript', readFileSync(require.resolve('openseadragon/build/openseadragon/openseadragon.min.js'))],
  };
  const server = createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    res.writeHead(file ? 200 : 404, { 'Content-Type': file ? file[0] : 'text/plain' });
    res.end(file ? file[1] : 'not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    files,
    stop: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}
