// Builds the React example app into the demo (examples/src/demo/page/react), which embeds it
// and serves it at /react/: `npm run build:react`. The client comes from src/, so the app
// always runs the code of this checkout.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/react/',
  logLevel: 'warn',
  resolve: {
    alias: [
      { find: '@universal-sse/client/react', replacement: here('../../src/react.ts') },
      { find: '@universal-sse/client', replacement: here('../../src/index.ts') },
    ],
  },
  build: {
    outDir: process.env.REACT_OUT_DIR ?? here('../../../examples/src/demo/page/react'),
    emptyOutDir: true,
    modulePreload: false,
    reportCompressedSize: false,
    rollupOptions: {
      output: {
        entryFileNames: 'app.js',
        chunkFileNames: 'app-[name].js',
        assetFileNames: '[name][extname]',
      },
    },
  },
});
