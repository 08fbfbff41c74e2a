//! Idempotency keys shared by every instance: `SET <key>:idem:<idempotency key> NX PX`.
//!
//! A send claims its key with a pending record that lives for a bounded time (ten publish
//! timeouts, at most the window), so that a send that dies on its way does not hold the key
//! for the whole window; once it is done, the record holds its report for the window. A send
//! that finds the key pending waits for the report, polling with a short backoff, for at most
//! two publish timeouts.

use std::time::Duration;

use redis::{AsyncCommands, ExistenceCheck, SetExpiry, SetOptions, aio::ConnectionManager};
use sse_hub::{Claim, IdempotencyKey, IdempotencyRecord, error::BackplaneError};

use crate::{RedisConfig, backplane::redis_error};

fn key_of(config: &RedisConfig, key: &IdempotencyKey) -> String {
    format!("{}:idem:{}", config.key, key.as_str())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

pub(crate) async fn claim(
    config: &RedisConfig,
    conn: &ConnectionManager,
    key: &IdempotencyKey,
    pending: &IdempotencyRecord,
    window: Duration,
) -> Result<Claim, BackplaneError> {
    let limit = config.publish_timeout;
    let redis_key = key_of(config, key);
    let pending_json = serde_json::to_string(pending)
        .map_err(|err| BackplaneError::Corrupt(format!("idempotency record: {err}").into()))?;
    let pending_ttl = (limit * 10).min(window);
    let deadline = tokio::time::Instant::now() + limit * 2;
    let mut pause = Duration::from_millis(5);
    loop {
        let mut conn = conn.clone();
        let options = SetOptions::default()
            .conditional_set(ExistenceCheck::NX)
            .with_expiration(SetExpiry::PX(millis(pending_ttl)));
        let set: Option<String> = conn
            .set_options(&redis_key, &pending_json, options)
            .await
            .map_err(|err| redis_error(&err, limit))?;
        if set.is_some() {
            return Ok(Claim::Claimed);
        }
        let held: Option<String> = conn
            .get(&redis_key)
            .await
            .map_err(|err| redis_error(&err, limit))?;
        // Gone since the SET: claim it again.
        let Some(held) = held else { continue };
        let record: IdempotencyRecord = serde_json::from_str(&held).map_err(|err| {
            BackplaneError::Corrupt(format!("idempotency record {redis_key}: {err}").into())
        })?;
        let done = record.report.is_some() || record.fingerprint != pending.fingerprint;
        if done || tokio::time::Instant::now() >= deadline {
            return Ok(Claim::Taken(record));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

pub(crate) async fn settle(
    config: &RedisConfig,
    conn: &ConnectionManager,
    key: &IdempotencyKey,
    done: Option<&IdempotencyRecord>,
    window: Duration,
) -> Result<(), BackplaneError> {
    let limit = config.publish_timeout;
    let redis_key = key_of(config, key);
    let mut conn = conn.clone();
    match done {
        Some(record) => {
            let json = serde_json::to_string(record).map_err(|err| {
                BackplaneError::Corrupt(format!("idempotency record: {err}").into())
            })?;
            conn.pset_ex::<_, _, ()>(&redis_key, json, millis(window))
                .await
                .map_err(|err| redis_error(&err, limit))
        }
        None => conn
            .del::<_, ()>(&redis_key)
            .await
            .map_err(|err| redis_error(&err, limit)),
    }
}
