// Debian's Chromium for the browser tests, headless, without the services a test does not need.
import { chromium } from 'playwright-core';

/** Launches Chromium (CHROMIUM_PATH, else /usr/bin/chromium); never downloads a browser. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
