/**
 * The wire format and the HTTP API, generated from the OpenAPI document of the Rust crates
 * (sse-axum/openapi.json) by openapi-typescript. Do not edit: run `npm run generate`.
 *
 * `types.ts` gives the schemas their names.
 *
 * @module
 */
export {};
//# sourceMappingURL=openapi.js.map