/**
 * The wire format and the HTTP API, generated from the OpenAPI document of the Rust crates
 * (sse-axum/openapi.json) by openapi-typescript. Do not edit: run `npm run generate`.
 *
 * `types.ts` gives the schemas their names.
 *
 * @module
 */

export interface paths {
    "/connections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Open connections.
         * @description The open connections of every instance.
         */
        get: operations["connections"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connections/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One connection.
         * @description An open connection, on any instance.
         */
        get: operations["connection"];
        put?: never;
        post?: never;
        /**
         * Kick a connection.
         * @description Ends one connection's stream, on whichever instance holds it.
         */
        delete: operations["disconnect"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/explain": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Why didn't a user get a message?
         * @description What happened to the message at each of the user's connections, on every instance: those
         *     open now and those that ended after being offered the message.
         */
        get: operations["explain"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/presence/{channel}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Who is in a channel?
         * @description The users connected to the channel on every instance, for callers who may read it (as its
         *     stream would judge them).
         */
        get: operations["presence"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/publish": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Publish one message.
         * @description The body is one message in the wire format; the answer is the send report. A repeat under
         *     the same idempotency key (`idempotencyKey`, or the `Idempotency-Key` header) within the
         *     window delivers nothing and answers the first report with `"duplicate": true`.
         */
        post: operations["publish"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Statistics.
         * @description This instance's statistics and, on a shared backplane, every live instance's with their
         *     totals (`cluster`).
         */
        get: operations["stats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/{user}/ban": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Lift a ban.
         * @description Lifts the user's ban on every instance.
         */
        delete: operations["unban_user"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/{user}/connections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Kick a user.
         * @description Ends the user's streams on every instance; with `ban`, the user's connections are refused
         *     (403 `banned`, with `until`) on every instance for that long.
         */
        delete: operations["disconnect_user"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/{user}/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke a user's credentials.
         * @description Ends the user's streams on every instance with the `auth-expired` refresh, so that their
         *     clients reconnect with fresh credentials.
         */
        post: operations["revoke_user"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description The data of the `refresh` event that ends a stream whose credentials expired or were
         *     revoked: the client reconnects with fresh credentials and resumes.
         */
        AuthExpiredData: {
            /** @enum {string} */
            reason: "auth-expired";
        };
        /** @description Backplane errors, by operation. */
        BackplaneErrors: {
            /**
             * Format: int64
             * @description The control path and shared stores.
             * @default 0
             */
            control?: number;
            /**
             * Format: int64
             * @description Appending messages.
             * @default 0
             */
            publish?: number;
            /**
             * Format: int64
             * @description Reading history.
             * @default 0
             */
            replay?: number;
            /**
             * Format: int64
             * @description The entry stream.
             * @default 0
             */
            tail?: number;
        };
        /** @description Sizes a backplane reports for statistics. */
        BackplaneStats: {
            /**
             * @description Bytes this process holds for replay (0 when the history lives elsewhere).
             * @default 0
             */
            bytes?: number;
            /**
             * @description Entries held for replay (by this process, or in the shared store).
             * @default 0
             */
            entries?: number;
            /**
             * Format: int64
             * @description Entries read from a shared log that this instance's dispatcher has not taken yet.
             * @default 0
             */
            lagEntries?: number;
            /**
             * Format: int64
             * @description While entries wait for the dispatcher: how old the entry it took last is, in
             *     milliseconds (0 when it keeps up).
             * @default 0
             */
            lagMs?: number;
            /**
             * Format: int64
             * @description Entries left out of replays because they could not be decoded.
             * @default 0
             */
            skipped?: number;
        };
        /**
         * @description The data of the `refresh` event that `Hub::invalidate_client_caches` sends on each
         *     channel whose cached state clients should drop.
         */
        CacheInvalidationData: {
            /** @description The channel whose state to reload. */
            channel: components["schemas"]["Channel"];
            /** @enum {string} */
            type: "cache-invalidation";
        };
        /** @description A channel: 1 to 64 characters of a-z 0-9 - _ . : */
        Channel: string;
        /** @description Streams ended, by why. */
        ClosedStats: {
            /**
             * Format: int64
             * @description Their credentials expired or were revoked.
             * @default 0
             */
            authExpired?: number;
            /**
             * Format: int64
             * @description Their user was banned.
             * @default 0
             */
            banned?: number;
            /**
             * Format: int64
             * @description The client went away.
             * @default 0
             */
            clientGone?: number;
            /**
             * Format: int64
             * @description Disconnected or kicked.
             * @default 0
             */
            kicked?: number;
            /**
             * Format: int64
             * @description Reached their lifetime.
             * @default 0
             */
            lifetime?: number;
            /**
             * Format: int64
             * @description The hub shut down.
             * @default 0
             */
            shutdown?: number;
            /**
             * Format: int64
             * @description Closed as too slow.
             * @default 0
             */
            tooSlow?: number;
        };
        /** @description Statistics of every live instance and their totals. An instance that does not answer in time is counted from its last snapshot, until that expires. */
        ClusterStats: {
            /**
             * Format: int64
             * @description Backplane errors, on every instance.
             */
            backplaneErrors: number;
            /**
             * Format: int64
             * @description Connections closed as too slow, on every instance.
             */
            closedSlow: number;
            /** @description Open connections per channel on every instance. */
            connectionsPerChannel: {
                [key: string]: number;
            };
            /**
             * Format: int64
             * @description Frames written to connections, on every instance.
             */
            delivered: number;
            /**
             * Format: int64
             * @description Frames shed, expired or coalesced, on every instance.
             */
            dropped: number;
            /** @description Why the other instances' snapshots could not be read (the backplane failed). */
            error?: string | null;
            /** @description One entry per live instance, ordered by instance id. */
            instances: components["schemas"]["InstanceStats"][];
            /**
             * Format: int64
             * @description Messages sent through any instance in the last 60 seconds.
             */
            messagesPerMinute: number;
            /**
             * Format: int64
             * @description Messages sent through any instance.
             */
            messagesSent: number;
            /**
             * Format: int64
             * @description Frames queued for connections, on every instance.
             */
            queued: number;
            /** @description Open connections on every instance. */
            totalConnections: number;
        };
        /** @description A coalescing key: 1 to 256 characters, no control characters; a newer message with the same key replaces a queued one */
        CoalesceKey: string;
        /** @description What a connection got when it opened: the content of the `connected` event. */
        Connected: {
            /** @description The subscribed channels. */
            channels: components["schemas"]["Channel"][];
            /** @description The connection id. */
            connectionId: components["schemas"]["ConnectionId"];
            /**
             * @description Whether the history no longer reached the client's cursor (a `history-gap` refresh was
             *     queued first).
             */
            historyGap: boolean;
            /** @description Frames queued from history and the persistent cache before live messages. */
            replayed: number;
            /** @description Whether the client resumed from a cursor. */
            resumed: boolean;
            /** @description The user, if authenticated (`null` for an anonymous connection). */
            userId: string | null;
        };
        /** @description The data of the `connected` event that opens every stream. */
        ConnectedData: components["schemas"]["Connected"] & {
            /**
             * Format: int64
             * @description Milliseconds between heartbeats on an idle stream.
             */
            heartbeatInterval: number;
        };
        /** @description A connection id: conn-<n>, or conn-<instance>-<n> on a shared backplane */
        ConnectionId: string;
        /** @description An open connection. */
        ConnectionInfo: {
            /** @description The subscribed channels. */
            channels: components["schemas"]["Channel"][];
            /**
             * @description The client's address, if known.
             * @example 203.0.113.7:52100
             */
            clientAddr?: string | null;
            /**
             * Format: int64
             * @description When the connection opened (milliseconds since the Unix epoch).
             */
            connectedAt: number;
            /**
             * Format: int64
             * @description Frames written.
             */
            delivered: number;
            /**
             * Format: int64
             * @description Frames dropped: shed, expired or coalesced.
             */
            dropped: number;
            /**
             * Format: int64
             * @description When the connection's credentials expire (milliseconds since the Unix epoch), if they do.
             */
            expiresAt?: number | null;
            /** @description The connection id. */
            id: components["schemas"]["ConnectionId"];
            /** @description The instance that holds the connection. */
            instance: components["schemas"]["InstanceId"];
            /**
             * Format: int64
             * @description When a frame or heartbeat was last written (milliseconds since the Unix epoch).
             */
            lastActivity: number;
            /** @description The effective permissions. */
            permissions: components["schemas"]["Permission"][];
            /** @description Frames waiting to be written. */
            queueLen: number;
            /** @description The roles. */
            roles: components["schemas"]["Role"][];
            userId?: null | components["schemas"]["UserId"];
        };
        /** @description What happened to the message at one connection. */
        ConnectionOutcome: {
            /** @description The connection. */
            connectionId: components["schemas"]["ConnectionId"];
            /** @description Why, in words. */
            detail: string;
            /** @description The instance that holds (or held) it. */
            instance: components["schemas"]["InstanceId"];
            /** @description What happened. */
            outcome: components["schemas"]["Outcome"];
        };
        /** @description A position in the message log, the SSE event id: epoch-major-minor */
        Cursor: string;
        /** @description `DELETE /connections/{id}`. */
        Disconnected: {
            /** @description Streams ended: 1. */
            disconnected: number;
        };
        /** @description The JSON body of every refusal. */
        Error: {
            /**
             * @description A machine-readable code: `invalid_message`, `unauthorized`, `forbidden`, `not_found`,
             *     `bad_request`, `idempotency_conflict`, `unsupported_media_type`,
             *     `service_unavailable`...
             */
            error: string;
            /** @description The field at fault, for `invalid_message`. */
            field?: string | null;
            /** @description What went wrong, in words. */
            message: string;
            /**
             * Format: int64
             * @description When the ban ends, for `banned` (the stream endpoint's refusal of a banned user):
             *     milliseconds since the Unix epoch.
             */
            until?: number | null;
        };
        /**
         * @description The JSON object on the `data:` line of every event: the application's messages and the
         *     events the system sends by itself have the same shape. (A heartbeat's data is
         *     `HeartbeatData` alone.)
         */
        EventEnvelope: {
            /** @description The channel the message was published on (`system` for the system's events). */
            channel: components["schemas"]["Channel"];
            /** @description The payload: any JSON the publisher sent, or a `*Data` object of a system event. */
            data: unknown;
            /** @description The event type; the same as the SSE `event:` field. */
            event: components["schemas"]["EventType"];
            /**
             * @description The message id: the publisher's, or one the hub generated (a `connected` event's is
             *     the connection id).
             */
            id: components["schemas"]["MessageId"];
            /**
             * Format: int64
             * @description The publisher's timestamp, or when the hub received the message: milliseconds since
             *     the Unix epoch.
             */
            timestamp: number;
        };
        /** @description The event type: connected, heartbeat, data, update, refresh, toast, alert, notification, broadcast, error, custom, or a custom name (1 to 64 characters of A-Z a-z 0-9 - _ . :) */
        EventType: string;
        /** @description `GET /explain`: what happened to a message at each of a user's connections. */
        Explain: {
            /** @description One line per connection of the user, on every instance, ordered by instance and id. */
            connections: components["schemas"]["ConnectionOutcome"][];
            /** @description The message, as asked for (an id or a cursor). */
            message: string;
            /** @description The user. */
            userId: components["schemas"]["UserId"];
        };
        /**
         * @description The data of a `heartbeat` event. A heartbeat has no envelope: its `data:` line is this
         *     object alone.
         */
        HeartbeatData: {
            /**
             * Format: int64
             * @description Server time, milliseconds since the Unix epoch.
             */
            timestamp: number;
        };
        /**
         * @description The data of the `refresh` event that tells a resuming client that the history no longer
         *     reaches its cursor: it missed messages and should reload its state.
         */
        HistoryGapData: {
            /** @description The connection's channels: the state to reload. */
            channels: components["schemas"]["Channel"][];
            lastEventId: null | components["schemas"]["Cursor"];
            /** @enum {string} */
            reason: "history-gap";
        };
        /** @description One instance's statistics. */
        HubStats: {
            /** @description Channels with at least one subscriber. */
            activeChannels: number;
            /** @description The backplane's own sizes. */
            backplane: components["schemas"]["BackplaneStats"];
            /**
             * Format: int64
             * @description Errors reported by the backplane.
             */
            backplaneErrors: number;
            /** @description Backplane errors (`backplaneErrors`), by operation. */
            backplaneErrorsByOp?: components["schemas"]["BackplaneErrors"];
            /**
             * Format: int64
             * @description Frames dropped unwritten because their connection ended: closed by the hub (too slow,
             *     disconnected, shut down) or by its client going away.
             */
            cleared: number;
            /**
             * Format: int64
             * @description Frames dropped unwritten because their connection was closed as too slow (part of
             *     `cleared`).
             */
            clearedSlow?: number;
            /** @description Streams ended, by why. */
            closed?: components["schemas"]["ClosedStats"];
            /**
             * Format: int64
             * @description Connections closed because they could not keep up.
             */
            closedSlow: number;
            /**
             * Format: int64
             * @description Frames replaced by a newer frame with the same coalescing key.
             */
            coalesced: number;
            /** @description Open connections per subscribed channel (a connection counts once per channel). */
            connectionsPerChannel: {
                [key: string]: number;
            };
            /**
             * Format: int64
             * @description Frames written to connections (handed to the response body).
             */
            delivered: number;
            /**
             * Format: int64
             * @description Frames dropped because their TTL passed before they were written.
             */
            expired: number;
            /**
             * Format: int64
             * @description Connections that resumed with a cursor history no longer covered.
             */
            historyGaps: number;
            /** @description Bytes held by this process. */
            memory: components["schemas"]["MemoryStats"];
            /**
             * Format: int64
             * @description Messages dispatched on this instance (its own and, with a shared backplane, others').
             */
            messagesDispatched: number;
            /**
             * Format: int64
             * @description Messages sent through this hub in the last 60 seconds.
             */
            messagesPerMinute: number;
            /**
             * Format: int64
             * @description Messages sent through this hub.
             */
            messagesSent: number;
            /** @description Sends waiting for a shared backplane to hand their message back for dispatch. */
            pendingSends: number;
            /**
             * Format: int64
             * @description Persistent messages cached for new connections.
             */
            persistentMessages: number;
            /**
             * Format: int64
             * @description Frames queued for a connection (one per message and recipient).
             */
            queued: number;
            /**
             * Format: int64
             * @description Frames queued from history or the persistent cache for connections that opened.
             */
            replayed: number;
            /**
             * Format: int64
             * @description Frames dropped to make room for more important ones.
             */
            shed: number;
            /** @description Open connections. */
            totalConnections: number;
        };
        /** @description An idempotency key: 1 to 256 characters, no control characters; a repeat within the idempotency window delivers nothing */
        IdempotencyKey: string;
        /** @description A server instance: 16 hexadecimal digits */
        InstanceId: string;
        /** @description One instance's statistics as published on the backplane. */
        InstanceStats: {
            /** @description The instance. */
            instance: components["schemas"]["InstanceId"];
            /** @description The statistics. */
            stats: components["schemas"]["HubStats"];
            /**
             * Format: int64
             * @description When the snapshot was taken (milliseconds since the Unix epoch).
             */
            updatedAt: number;
        };
        /** @description Bytes the hub holds, by purpose. */
        MemoryStats: {
            /** @description Replay history held in this process. */
            history: number;
            /** @description The delivery ledger behind `Hub::explain` (`GET /explain`). */
            ledger?: number;
            /** @description The persistent-message cache. */
            persistentCache: number;
            /**
             * @description Bytes of the frames waiting in connection queues, counted once per queue. A frame is
             *     encoded once and shared by every queue that holds it (and by the history), so this is
             *     the backlog's size rather than memory of its own.
             */
            queues: number;
        };
        /** @description A message in the wire format. It goes to the connections subscribed to `channel` that `target` selects, minus `excludeUsers` and, with `requireAuth`, minus anonymous connections. `id` and `timestamp` are filled in when left out. `priority` (0-10, default 5) decides what a full queue sheds first; `ttl` (seconds) drops it unwritten once older; `persistent` keeps it for connections that open later; `retryable` (default true) keeps it in history for replay; `coalesceKey` lets a newer message replace a queued one; `idempotencyKey` makes a repeat deliver nothing. */
        Message: {
            /** @description The channel it is sent on. */
            channel: components["schemas"]["Channel"];
            coalesceKey?: null | components["schemas"]["CoalesceKey"];
            /** @description The payload: any JSON (default `null`). */
            data?: unknown;
            /** @description The SSE event name. */
            event: components["schemas"]["EventType"];
            /** @description Users who never receive it, whatever the target (at most 10,000). */
            excludeUsers?: components["schemas"]["UserId"][];
            id?: null | components["schemas"]["MessageId"];
            idempotencyKey?: null | components["schemas"]["IdempotencyKey"];
            /** @description Kept for connections that open later (until its TTL). */
            persistent?: boolean;
            /**
             * Format: int32
             * @description 0 to 10 (default 5): a full queue sheds lower priorities first.
             * @default 5
             */
            priority?: number;
            /** @description Never delivered to anonymous connections. */
            requireAuth?: boolean;
            /**
             * @description Kept in history for clients that reconnect (default true).
             * @default true
             */
            retryable?: boolean;
            /** @description Who receives it (default `all`). */
            target?: components["schemas"]["Target"];
            /** @description The permissions of `permission-based` (at most 10,000). */
            targetPermissions?: components["schemas"]["Permission"][];
            /** @description The roles of `role-based` (at most 10,000). */
            targetRoles?: components["schemas"]["Role"][];
            /** @description The recipients of `user-specific` (at most 10,000). */
            targetUsers?: components["schemas"]["UserId"][];
            /**
             * Format: int64
             * @description Milliseconds since the Unix epoch (the send time when left out).
             */
            timestamp?: number | null;
            /**
             * Format: int32
             * @description Seconds after which it is dropped unwritten, and leaves history.
             */
            ttl?: number | null;
        };
        /** @description A message id: 1 to 128 characters, no control characters */
        MessageId: string;
        /**
         * @description What happened to a message at one connection.
         * @enum {string}
         */
        Outcome: "delivered" | "queued" | "shed" | "expired" | "coalesced" | "slow-closed" | "closed" | "not-recipient" | "not-connected" | "unknown";
        /** @description A permission: 1 to 128 characters of A-Z a-z 0-9 - _ . : / */
        Permission: string;
        /** @description The data of a `presence-join` or `presence-leave` event on a presence channel. */
        PresenceData: {
            /** @description The user's connections to the channel on every instance: 1 on a join, 0 on a leave. */
            connections: number;
            /** @description The user who joined or left. */
            userId: string;
        };
        /** @description `GET /presence/{channel}`: who is connected to the channel, on every instance. */
        PresenceOf: {
            /** @description Anonymous connections (counted, never named). */
            anonymous: number;
            /** @description The channel. */
            channel: components["schemas"]["Channel"];
            /** @description Every connection to the channel. */
            total: number;
            /** @description The users, ordered by user id. */
            users: components["schemas"]["PresentUser"][];
        };
        /** @description A user connected to a channel. */
        PresentUser: {
            /** @description Their open connections to the channel. */
            connections: number;
            /**
             * Format: int64
             * @description Since when they are connected: the opening of their oldest open connection
             *     (milliseconds since the Unix epoch).
             */
            since: number;
            /** @description The user. */
            userId: components["schemas"]["UserId"];
        };
        /**
         * @description The data of the `refresh` event that `Hub::trigger_refresh` sends: the client should
         *     reload a resource.
         */
        ResourceRefreshData: {
            /** @description Why, in the application's words (`null` when it gave none). */
            reason: string | null;
            /** @description The resource to reload. */
            resource: string;
        };
        /** @description `POST /users/{user}/revoke`. */
        Revoked: {
            /** @description Instances that answered, this one included. */
            instances: number;
            /** @description The user's streams ended with the `auth-expired` refresh, on every instance. */
            revoked: number;
        };
        /** @description A role: 1 to 64 characters of A-Z a-z 0-9 - _ . : / */
        Role: string;
        /**
         * @description The outcome of a publish.
         *
         *     The counts are about this instance's connections: with a shared backplane, other instances deliver the message to their own connections.
         */
        SendReport: {
            /** @description Matching connections closed because they could not keep up; they resume from history. */
            closed: number;
            /** @description The message's position in the log (its SSE event id). */
            cursor: components["schemas"]["Cursor"];
            /**
             * @description Whether this was a repeat of a message with the same idempotency key, which delivered
             *     nothing: the rest of the report is the first send's. Serialised only when true.
             */
            duplicate?: boolean;
            /** @description The message id. */
            id: components["schemas"]["MessageId"];
            /** @description Connections the message was queued for. */
            sent: number;
            /**
             * @description Matching connections whose queue was full of more important messages: the message was
             *     shed for them.
             */
            shed: number;
        };
        /** @description `GET /stats`: the instance's statistics, and on a shared backplane the cluster's. */
        Stats: components["schemas"]["HubStats"] & {
            cluster?: null | components["schemas"]["ClusterStats"];
        };
        /**
         * @description Which connections of the channel receive a message: all, authenticated (with a user id), user-specific (`targetUsers`), role-based (`targetRoles`), permission-based (`targetPermissions`).
         * @enum {string}
         */
        Target: "all" | "authenticated" | "user-specific" | "role-based" | "permission-based";
        /** @description The data of the `toast` event that `Hub::send_toast` sends on `toasts`. */
        ToastData: {
            /** @description Whether the user can dismiss it. */
            dismissible: boolean;
            /**
             * Format: int64
             * @description How long it shows, in milliseconds.
             */
            duration: number;
            /** @description The text to show. */
            message: string;
            /** @description How the toast looks. */
            type: components["schemas"]["ToastKind"];
        };
        /**
         * @description The kind of a toast; clients style it.
         * @enum {string}
         */
        ToastKind: "success" | "error" | "warning" | "info";
        /** @description `DELETE /users/{user}/connections`. */
        UserDisconnected: {
            /** @description The user's streams ended, on every instance. */
            disconnected: number;
            /** @description Instances that answered, this one included. */
            instances: number;
        };
        /** @description A user id: 1 to 128 characters, no control characters; integers are read as their decimal string, and ids are always written as strings */
        UserId: string | number;
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    connections: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The connections */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConnectionInfo"][];
                };
            };
            /** @description Not authenticated */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    connection: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The connection id
                 * @example conn-1
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The connection */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConnectionInfo"];
                };
            };
            /** @description Not authenticated */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such connection is open */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    disconnect: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The connection id
                 * @example conn-1
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The stream ended */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Disconnected"];
                };
            };
            /** @description Not authenticated */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such connection is open */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    explain: {
        parameters: {
            query: {
                /** @description The message's id or cursor */
                message: string;
                /**
                 * @description The user id
                 * @example 3
                 */
                userId: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One line per connection */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Explain"];
                };
            };
            /** @description A missing or invalid parameter */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not authenticated */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    presence: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The channel
                 * @example chat
                 */
                channel: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Who is connected */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PresenceOf"];
                };
            };
            /** @description An invalid channel name */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not authenticated, and the channel needs it */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed to read the channel */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The stream endpoint does not serve the channel */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    publish: {
        parameters: {
            query?: never;
            header?: {
                /** @description An idempotency key (1 to 256 characters); must agree with the body's idempotencyKey */
                "Idempotency-Key"?: string | null;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "channel": "notifications",
                 *       "data": {
                 *         "title": "Shipped"
                 *       },
                 *       "event": "notification",
                 *       "target": "user-specific",
                 *       "targetUsers": [
                 *         3
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["Message"];
            };
        };
        responses: {
            /** @description Sent (or a repeat: duplicate is true) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SendReport"];
                };
            };
            /** @description Not a valid message; field names the field at fault */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not authenticated */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The idempotency key was used for another message */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is not JSON */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The hub is shutting down or its backplane failed */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    stats: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The statistics */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Stats"];
                };
            };
            /** @description Not authenticated */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    unban_user: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The user id
                 * @example 3
                 */
                user: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The ban is lifted (or there was none) */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description An invalid user id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not authenticated */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    disconnect_user: {
        parameters: {
            query?: {
                /** @description Also ban the user for this many seconds (1 to 31536000) */
                ban?: number;
            };
            header?: never;
            path: {
                /**
                 * @description The user id
                 * @example 3
                 */
                user: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The streams ended */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserDisconnected"];
                };
            };
            /** @description An invalid user id or ban */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not authenticated */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revoke_user: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The user id
                 * @example 3
                 */
                user: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The streams ended */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Revoked"];
                };
            };
            /** @description An invalid user id */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not authenticated */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an admin */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
