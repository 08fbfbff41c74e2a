//! Presence decided cluster-wide: which instances have a user on a channel, and the leaves
//! waiting for their debounce time.
//!
//! - `<key>:presence:<channel>:<user>` (hash, instance id → when the user's first connection
//!   there opened): an instance writes its field when the user's first connection to the
//!   channel opens there and removes it when their last one closes. A field of an instance
//!   that is no longer alive (its statistics snapshot in `<key>:instances` ended) does not
//!   count, and is removed when seen; the key ends a day after it was last written.
//! - `<key>:presence-leaving:<channel>:<user>` (string, the instance that holds the leave):
//!   set when the user's last connection in the cluster closed; a reconnect anywhere within
//!   the debounce time removes it (neither a leave nor a join is sent), otherwise the
//!   instance that set it sends the leave.
//!
//! Each is one Lua script, so two instances never both announce the same join or leave.

use redis::{Script, aio::ConnectionManager};
use sse_hub::{Channel, UserId, cluster::PresenceUpdate, error::BackplaneError};

use crate::{RedisConfig, backplane::redis_error};

/// Counts the live instances other than ARGV[1] in KEYS[1], removing dead ones; `now` in ms.
const LIVE_OTHERS: &str = r"
local function live_others(key, instances, me, now)
  local n = 0
  for _, instance in ipairs(redis.call('HKEYS', key)) do
    if instance ~= me then
      local until_ms = redis.call('ZSCORE', instances, instance)
      if until_ms and tonumber(until_ms) > now then
        n = n + 1
      else
        redis.call('HDEL', key, instance)
      end
    end
  end
  return n
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
";

/// KEYS: user hash, leaving key, instances. ARGV: instance. 1: send the join.
const JOINED: &str = r"
redis.call('HSET', KEYS[1], ARGV[1], now)
redis.call('PEXPIRE', KEYS[1], 86400000)
if redis.call('DEL', KEYS[2]) == 1 then
  return 0
end
if live_others(KEYS[1], KEYS[3], ARGV[1], now) > 0 then
  return 0
end
return 1
";

/// KEYS: user hash, leaving key, instances. ARGV: instance, leaving TTL in ms. 1: hold the
/// leave.
const LEFT: &str = r"
redis.call('HDEL', KEYS[1], ARGV[1])
if live_others(KEYS[1], KEYS[3], ARGV[1], now) > 0 then
  return 0
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
";

/// KEYS: user hash, leaving key, instances. ARGV: instance. 1: send the leave.
const LEAVE_DUE: &str = r"
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[2])
if live_others(KEYS[1], KEYS[3], '', now) > 0 then
  return 0
end
return 1
";

/// The presence scripts.
#[derive(Debug)]
pub(crate) struct Scripts {
    joined: Script,
    left: Script,
    leave_due: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        Self {
            joined: Script::new(&format!("{LIVE_OTHERS}{JOINED}")),
            left: Script::new(&format!("{LIVE_OTHERS}{LEFT}")),
            leave_due: Script::new(&format!("{LIVE_OTHERS}{LEAVE_DUE}")),
        }
    }

    pub(crate) async fn decide(
        &self,
        config: &RedisConfig,
        conn: &ConnectionManager,
        instance: &str,
        update: &PresenceUpdate,
    ) -> Result<Option<bool>, BackplaneError> {
        let keys = |channel: &Channel, user: &UserId| {
            (
                format!("{}:presence:{channel}:{}", config.key, user.as_str()),
                format!(
                    "{}:presence-leaving:{channel}:{}",
                    config.key,
                    user.as_str()
                ),
            )
        };
        let (script, channel, user, ttl) = match update {
            PresenceUpdate::Joined { channel, user } => (&self.joined, channel, user, None),
            PresenceUpdate::Left {
                channel,
                user,
                debounce,
            } => {
                // The leave outlives its debounce a little, for the instance that holds it.
                let ttl = u64::try_from(debounce.as_millis())
                    .unwrap_or(u64::MAX)
                    .saturating_add(60_000);
                (&self.left, channel, user, Some(ttl))
            }
            PresenceUpdate::LeaveDue { channel, user } => (&self.leave_due, channel, user, None),
            _ => return Ok(None),
        };
        let (hash, leaving) = keys(channel, user);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(hash)
            .key(leaving)
            .key(format!("{}:instances", config.key))
            .arg(instance);
        if let Some(ttl) = ttl {
            invocation.arg(ttl);
        }
        let limit = config.publish_timeout;
        let decided: i64 = invocation
            .invoke_async(&mut conn.clone())
            .await
            .map_err(|err| redis_error(&err, limit))?;
        Ok(Some(decided == 1))
    }
}
