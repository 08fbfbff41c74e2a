/**
 * The committed dist/ must load in a browser without a bundler: relative imports carry their
 * `.js` extension and resolve to emitted files, and only the React entry imports a package.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { FakeEventSource } from './fake-event-source.js';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist');

function specifiers(file: string): string[] {
  const source = readFileSync(join(dist, file), 'utf8');
  return [...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map(
    (match) => match[1] ?? '',
  );
}

describe('dist', () => {
  const files = readdirSync(dist).filter((file) => file.endsWith('.js')).sort();

  it('holds the emitted modules and their declarations', () => {
    expect(files).toEqual([
      'backoff.js',
      'client.js',
      'index.js',
      'openapi.js',
      'parser.js',
      'react.js',
      'share.js',
      'testing.js',
      'transport.js',
      'types.js',
    ]);
    for (const file of files) {
      expect(existsSync(join(dist, file.replace(/\.js$/, '.d.ts')))).toBe(true);
    }
  });

  it('imports relative modules by their .js file names', () => {
    for (const file of files) {
      for (const specifier of specifiers(file)) {
        if (specifier.startsWith('.')) {
          expect(specifier).toMatch(/\.js$/);
          expect(existsSync(join(dist, specifier))).toBe(true);
        }
      }
    }
  });

  it('imports React from the React entry only', () => {
    const bare = Object.fromEntries(
      files.map((file) => [file, specifiers(file).filter((s) => !s.startsWith('.'))]),
    );
    expect(bare).toEqual({
      'backoff.js': [],
      'client.js': [],
      'index.js': [],
      'openapi.js': [],
      'parser.js': [],
      'react.js': ['react'],
      'share.js': [],
      'testing.js': [],
      'transport.js': [],
      'types.js': [],
    });
  });

  it('works when loaded as it is', async () => {
    FakeEventSource.reset();
    const { SSEClient } = (await import(join(dist, 'index.js'))) as typeof import('../../src/index.js');
    const client = new SSEClient('/api/sse/stream', {
      channels: ['toasts'],
      EventSource: FakeEventSource,
    });
    FakeEventSource.latest.open();
    expect(client.connectionState.status).toBe('connected');
    client.close();
    expect(FakeEventSource.latest.closed).toBe(true);
  });
});
