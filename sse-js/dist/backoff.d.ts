/** The settings that shape the delay before a reconnect. */
export interface BackoffOptions {
    /** The nominal delay before the first reconnect, in milliseconds. */
    reconnectDelay: number;
    /** The largest nominal delay, in milliseconds. */
    maxReconnectDelay: number;
    /** The share of the nominal delay that is randomised away, from 0 (none) to 1. */
    jitter: number;
}
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
export declare function backoffDelay(attempt: number, options: BackoffOptions, random?: () => number): number;
//# sourceMappingURL=backoff.d.ts.map