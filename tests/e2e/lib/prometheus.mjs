// A real node exporter and Prometheus for the browser tests, started the way the Rust tests start
// them (crates/testkit/src/prometheus.rs): Debian's programs on free loopback ports, data in the
// run's own directory, killed when the run ends (see processes.mjs).

import fs from 'node:fs';
import path from 'node:path';

import { freePort, requireProgram, startProcess, tail, waitUntilServing } from './processes.mjs';

/** Starts `prometheus-node-exporter` on a free port. Returns { address, process }. */
export async function startNodeExporter(dir) {
  const program = requireProgram('prometheus-node-exporter', 'prometheus-node-exporter');
  const ownDir = path.join(dir, 'node-exporter');
  const textfileDir = path.join(ownDir, 'textfile');
  fs.mkdirSync(textfileDir, { recursive: true });
  const address = `127.0.0.1:${await freePort()}`;
  const child = startProcess(
    'node-exporter',
    program,
    [`--web.listen-address=${address}`, `--collector.textfile.directory=${textfileDir}`],
    { dir: ownDir },
  );
  await waitUntilServing(child, 'prometheus-node-exporter', `http://${address}/metrics`, 20_000);
  return { address, process: child };
}

/**
 * Starts `prometheus` on a free port with its own storage, scraping `targets` ({ job, addresses })
 * and itself (job "prometheus") every `scrapeIntervalMs`. Resolves once it is ready and every
 * target has been scraped (`sum(up)` counts them all). Returns { url, process, query(expr) }.
 */
export async function startPrometheus(dir, targets, scrapeIntervalMs = 1000) {
  const program = requireProgram('prometheus', 'prometheus');
  const ownDir = path.join(dir, 'prometheus');
  fs.mkdirSync(ownDir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const interval = `${scrapeIntervalMs}ms`;
  const all = [...targets, { job: 'prometheus', addresses: [`127.0.0.1:${port}`] }];
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    ...all.flatMap((t) => [
      `  - job_name: ${JSON.stringify(t.job)}`,
      '    static_configs:',
      `      - targets: ${JSON.stringify(t.addresses)}`,
    ]),
    '',
  ].join('\n');
  const configPath = path.join(ownDir, 'prometheus.yml');
  fs.writeFileSync(configPath, config);
  const child = startProcess(
    'prometheus',
    program,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${path.join(ownDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { dir: ownDir },
  );
  await waitUntilServing(child, 'prometheus', `${url}/-/ready`, 60_000);

  /** An instant query's result vector (`data.result`). */
  const query = async (expr) => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = await response.json();
    if (body.status !== 'success') throw new Error(`Prometheus query ${expr}: ${body.error || response.status}`);
    return body.data.result;
  };
  const expected = all.reduce((n, t) => n + t.addresses.length, 0);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = Number((await query('sum(up)').catch(() => []))[0]?.value?.[1] ?? 0);
    if (up >= expected) break;
    if (Date.now() > deadline) {
      throw new Error(`Prometheus scraped ${up} of ${expected} targets within 60 s:\n${tail(child.log())}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, process: child, query };
}

/**
 * Waits until Prometheus holds at least `samples` samples of `metric` for every job in `jobs`, so
 * that rate() over a few scrape intervals has something to work on.
 */
export async function waitForSamples(prometheus, metric, jobs, samples = 3, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await prometheus.query(`min by (job) (count_over_time(${metric}[1m]))`).catch(() => []);
    const counts = Object.fromEntries(result.map((r) => [r.metric.job, Number(r.value[1])]));
    if (jobs.every((job) => (counts[job] ?? 0) >= samples)) return counts;
    if (Date.now() > deadline) {
      throw new Error(
        `Prometheus has no ${samples} samples of ${metric} for jobs ${jobs.join(', ')} within ${timeoutMs / 1000} s ` +
          `(counts: ${JSON.stringify(counts)}):\n${tail(prometheus.process.log())}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
