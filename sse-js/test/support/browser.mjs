// Debian's Chromium for the browser tests, headless, without the services a test does not need.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const artifacts = join(dirname(fileURLToPath(import.meta.url)), '../../../target/browser-artifacts');

/** The path of a screenshot under target/browser-artifacts (not committed), created on demand. */
export function artifact(name) {
  mkdirSync(artifacts, { recursive: true });
  return join(artifacts, name);
}

/** Launches Chromium (CHROMIUM_PATH, else /usr/bin/chromium); never downloads a browser. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
