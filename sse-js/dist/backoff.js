/**
 * The delay in milliseconds before reconnect number `attempt` (1 for the first).
 *
 * The nominal delay doubles with every attempt, starting at `reconnectDelay` and capped at
 * `maxReconnectDelay`; jitter then shortens it by up to `jitter` of itself, so that clients
 * cut off together do not all come back at the same moment:
 *
 * ```text
 * nominal = min(maxReconnectDelay, reconnectDelay * 2 ** (attempt - 1))
 * delay   = round(nominal * (1 - jitter * random()))
 * ```
 *
 * With the defaults (1000, 30000, 0.5) the delays lie in [500, 1000], [1000, 2000],
 * [2000, 4000], ... and never exceed 30 s.
 *
 * @param random - a source of numbers in [0, 1); `Math.random` by default.
 */
export function backoffDelay(attempt, options, random = Math.random) {
    const exponent = Math.max(0, attempt - 1);
    const nominal = Math.min(options.maxReconnectDelay, options.reconnectDelay * 2 ** exponent);
    const jitter = Math.min(1, Math.max(0, options.jitter));
    return Math.max(0, Math.round(nominal * (1 - jitter * random())));
}
//# sourceMappingURL=backoff.js.map