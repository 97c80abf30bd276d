// Child processes the e2e run and the render benchmark start (Pharos, node exporter, Prometheus):
// every one is registered here so that it is killed however the run ends — normally, on a thrown
// error, on Ctrl-C/SIGTERM, or when Node exits for any other reason.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Every child still running, killed with SIGKILL when this process exits. */
const running = new Set();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.log(`${signal}: stopping ${running.size} child process(es)`);
    // process.exit runs the 'exit' handler above, which kills them.
    process.exit(130);
  });
}

/** A free TCP port on 127.0.0.1 (bound, then released for the child to take). */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The path of `name` on PATH (or the usual system dirs), or an error naming the Debian package. */
export function requireProgram(name, debianPackage) {
  const dirs = [...(process.env.PATH || '').split(':'), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is not installed: run scripts/install-deps (Debian package ${debianPackage})`);
}

/**
 * Starts `program args` in `dir` with its output appended to `dir/<name>.log`. Returns the child
 * with `logPath`, `log()` (its output so far) and `stop()` (SIGTERM, SIGKILL after 10 s).
 */
export function startProcess(name, program, args, { dir, env, stdio } = {}) {
  const logPath = path.join(dir, `${name}.log`);
  const logFd = fs.openSync(logPath, 'a');
  const child = spawn(program, args, {
    cwd: dir,
    env: env ?? process.env,
    stdio: stdio ?? ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return Object.assign(child, {
    logPath,
    log: () => {
      try {
        return fs.readFileSync(logPath, 'utf8');
      } catch {
        return '';
      }
    },
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  });
}

/** Resolves once `GET url` answers 2xx; throws with the child's log when it exits or time runs out. */
export async function waitUntilServing(child, name, url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited()) {
      throw new Error(`${name} exited (${child.signalCode || `exit ${child.exitCode}`}) before answering ${url}:\n${tail(child.log())}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${name} did not answer ${url} within ${timeoutMs / 1000} s:\n${tail(child.log())}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The last lines of a log, indented, for error messages. */
export function tail(text, lines = 20) {
  return text
    .trim()
    .split('\n')
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n');
}
