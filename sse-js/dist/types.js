/**
 * Wire-format types: what the server sends and what its publish API accepts.
 *
 * Field names are the camelCase names of the Rust serde structs in `sse-hub` and `sse-tower`.
 *
 * @module
 */
export {};
//# sourceMappingURL=types.js.map