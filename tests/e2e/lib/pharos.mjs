// A Pharos server of the test's own (fresh SQLite database, loopback, demo data), and the few API
// calls the harness makes outside the browser (basic auth as admin/admin).

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { startProcess, tail } from './processes.mjs';

/**
 * Starts `bin serve` on 127.0.0.1:0 in `dir` and resolves once its "pharos is ready" log line names
 * the address. PHAROS_SERVER_WEB_DIR is passed through when set, so a UI built elsewhere (e.g. `npx
 * vite build --outDir /tmp/x`) is the one served. Returns { url, logPath, pid, stop() }.
 */
export async function startPharos({ bin: given, dir }) {
  // The child runs in `dir`: a relative path is meant from here.
  const bin = path.resolve(given);
  if (!fs.existsSync(bin)) {
    throw new Error(`${bin} does not exist: run cargo build -p pharos-server --bins first (or set PHAROS_BIN)`);
  }
  const env = {
    PATH: process.env.PATH,
    PHAROS_SERVER_LISTEN: '127.0.0.1:0',
    PHAROS_DATABASE_URL: `sqlite://${path.join(dir, 'pharos.db')}`,
    PHAROS_SERVER_DEMO_DATA: 'true',
    PHAROS_LOG_FORMAT: 'json',
    PHAROS_LOG_LEVEL: 'info',
  };
  if (process.env.PHAROS_SERVER_WEB_DIR) env.PHAROS_SERVER_WEB_DIR = process.env.PHAROS_SERVER_WEB_DIR;
  const child = startProcess('pharos', bin, ['serve'], { dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const log = fs.createWriteStream(child.logPath, { flags: 'a' });
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pharos did not log "pharos is ready" within 30 s; see ${child.logPath}`)),
      30_000,
    );
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${bin}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`pharos exited before it was ready (${signal || `exit ${code}`}):\n${tail(child.log())}`));
    });
    readline.createInterface({ input: child.stderr }).on('line', (line) => {
      log.write(line + '\n');
      try {
        const entry = JSON.parse(line);
        if (entry.message === 'pharos is ready' && entry.address) {
          clearTimeout(timer);
          resolve(entry.address);
        }
      } catch {
        // Not JSON (a panic message): kept in the log file.
      }
    });
  });
  child.removeAllListeners('exit');
  const url = `http://${address}`;
  return { url, logPath: child.logPath, pid: child.pid, stop: () => child.stop(), api: apiClient(url) };
}

/**
 * `api(method, path, body)` against Pharos as admin/admin: resolves to the parsed JSON answer and
 * throws with the server's `message` on a non-2xx status.
 */
export function apiClient(base, user = 'admin', password = 'admin') {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return async (method, apiPath, body) => {
    const response = await fetch(`${base}${apiPath}`, {
      method,
      headers: { Authorization: auth, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      throw new Error(`${method} ${apiPath} answered ${response.status}: ${json?.message ?? text.slice(0, 300)}`);
    }
    return json;
  };
}
