// Debian's Chromium as every browser suite launches it (flags from docs/vscode-e2e.md): headless, no sandbox (root),
// and none of the background traffic that this machine's closed network would refuse.
export const chromiumBin = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Playwright adds --headless itself when asked; the rest it leaves to us. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
