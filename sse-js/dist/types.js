/**
 * Wire-format types: what the server sends and what its HTTP API accepts and answers.
 *
 * They are the schemas of `openapi.ts`, which is generated from the OpenAPI document the Rust
 * crates derive from the types they serialise; this module names them and narrows the few
 * the schema leaves open (the payload type of an envelope, the built-in names of event types
 * and channels).
 *
 * @module
 */
export {};
//# sourceMappingURL=types.js.map