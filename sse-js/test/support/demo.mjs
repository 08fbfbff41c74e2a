// Starts the real demo server (the binary named by DEMO_BIN) on a free port for a test file.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** The demo binary; `scripts/test` builds it and sets DEMO_BIN. */
export function demoBinary() {
  const bin = process.env.DEMO_BIN;
  if (!bin) throw new Error('DEMO_BIN is not set: build the demo (cargo build -p examples --bin demo) and point DEMO_BIN at it');
  return bin;
}

/** Starts the demo; resolves with its base URL and a stop function, within 20 s. */
export async function startDemo() {
  const child = spawn(demoBinary(), ['--addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the demo did not start within 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`the demo exited with ${code}`)));
    lines.on('line', (line) => {
      const match = /serving (http:\/\/\S+?)\/? /.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await once(child, 'exit');
      }
    },
  };
}

/** Calls the demo's API as a user (by token); resolves with the JSON body, or throws on an error status. */
export async function api(base, method, path, token, body) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return json;
}

/** Resolves when `predicate()` holds, checking on every event-loop turn, or rejects after `ms`. */
export function until(predicate, what, ms = 5_000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting until ${what}`));
      setImmediate(check);
    };
    check();
  });
}
