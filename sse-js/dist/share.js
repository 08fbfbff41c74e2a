/**
 * One connection per browser: the tabs of an origin that share a name elect a leader with the
 * Web Locks API; the leader holds the stream and passes everything on over a BroadcastChannel.
 * When the leader's tab closes, its lock is released and the next tab in line takes over.
 *
 * @module
 */
/** The browser's Web Locks and BroadcastChannel, when it has both. */
export function shareSupport(locks, Channel) {
    const found = locks ?? globalThis.navigator?.locks;
    const ChannelImpl = Channel ?? globalThis.BroadcastChannel;
    return found != null && ChannelImpl != null ? { locks: found, Channel: ChannelImpl } : undefined;
}
/** Joins the shared connection `name`. */
export function join(name, support, handlers) {
    const channel = new support.Channel(`universal-sse:${name}`);
    const abort = new AbortController();
    let live = true;
    let leader = false;
    let release;
    channel.addEventListener('message', (event) => {
        if (live) {
            handlers.message(event.data);
        }
    });
    support.locks
        .request(`universal-sse:${name}`, { signal: abort.signal }, () => {
        if (!live) {
            return Promise.resolve();
        }
        leader = true;
        handlers.lead();
        // Held until this tab leaves (or closes, which releases it too).
        return new Promise((resolve) => {
            release = resolve;
        });
    })
        .catch(() => {
        // Aborted on leaving before the lock came.
    });
    return {
        get leader() {
            return leader;
        },
        post(message) {
            if (live) {
                channel.postMessage(message);
            }
        },
        close() {
            live = false;
            leader = false;
            abort.abort();
            release?.();
            channel.close();
        },
    };
}
//# sourceMappingURL=share.js.map