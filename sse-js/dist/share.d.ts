/**
 * One connection per browser: the tabs of an origin that share a name elect a leader with the
 * Web Locks API; the leader holds the stream and passes everything on over a BroadcastChannel.
 * When the leader's tab closes, its lock is released and the next tab in line takes over.
 *
 * @module
 */
/** What the tabs say to each other. */
export type ShareMessage = 
/** The leader received an event. */
{
    kind: 'event';
    type: string;
    data: string;
    lastEventId: string;
}
/** The leader's connection state changed (or a tab asked for it). */
 | {
    kind: 'state';
    state: unknown;
}
/** A tab joined, or needs these event types delivered. */
 | {
    kind: 'hello';
    types: string[];
}
/** A follower asked for a reconnect. */
 | {
    kind: 'reconnect';
};
/** The part of `navigator.locks` used here. */
export interface LockManagerLike {
    request(name: string, options: {
        signal?: AbortSignal;
    }, callback: () => Promise<void>): Promise<unknown>;
}
/** A constructor of BroadcastChannels. */
export type BroadcastChannelConstructor = new (name: string) => {
    postMessage(message: unknown): void;
    addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
    close(): void;
};
/** What a tab's membership does. */
export interface ShareHandlers {
    /** This tab became the leader: open the stream. */
    lead(): void;
    message(message: ShareMessage): void;
}
/** A tab's membership of a shared connection. */
export interface Shared {
    /** Whether this tab holds the stream. */
    readonly leader: boolean;
    post(message: ShareMessage): void;
    /** Leaves: a leader's lock goes to the next tab. */
    close(): void;
}
/** The browser's Web Locks and BroadcastChannel, when it has both. */
export declare function shareSupport(locks?: LockManagerLike, Channel?: BroadcastChannelConstructor): {
    locks: LockManagerLike;
    Channel: BroadcastChannelConstructor;
} | undefined;
/** Joins the shared connection `name`. */
export declare function join(name: string, support: {
    locks: LockManagerLike;
    Channel: BroadcastChannelConstructor;
}, handlers: ShareHandlers): Shared;
//# sourceMappingURL=share.d.ts.map