// The fake EventSource is part of the package: `@universal-sse/client/testing`.
export * from '../../src/testing.js';
