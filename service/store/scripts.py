"""Lua scripts: the atomic operations of the store. Each is idempotent for a retry that
carries the same attempt id, so the one retry policy may run it again after a failover."""

from __future__ import annotations

# KEYS: code, used-marker, grant. ARGV: attempt id, marker ttl, refresh-token digest.
# Redeems the code once and, in the same step, arms its grant (written with the code):
# sets the refresh-token digest and the grant's own expiry (field 'ea').
# Returns {"ok", data, expires_at} | {"revoked", data} (the grant was revoked, e.g. by a logout,
# before the code was redeemed) | {"reused", data} | {"missing"}.
CONSUME_CODE = """
local v = redis.call('GET', KEYS[1])
if v then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[1] .. '|' .. v, 'EX', ARGV[2])
  local ea = redis.call('HGET', KEYS[3], 'ea')
  if not ea then return {'revoked', v} end
  redis.call('HSET', KEYS[3], 'rt', ARGV[3])
  redis.call('EXPIREAT', KEYS[3], ea)
  return {'ok', v, ea}
end
local m = redis.call('GET', KEYS[2])
if not m then return {'missing'} end
local sep = string.find(m, '|', 1, true)
if string.sub(m, 1, sep - 1) == ARGV[1] then
  local ea = redis.call('HGET', KEYS[3], 'ea')
  if not ea then return {'revoked', string.sub(m, sep + 1)} end
  return {'ok', string.sub(m, sep + 1), ea}
end
return {'reused', string.sub(m, sep + 1)}
"""

# KEYS: grant, used-set. ARGV: presented digest, new digest, client id.
# Returns {"ok", data} | {"reused"} | {"wrong_client"} | {"missing"}.
ROTATE_REFRESH = """
local g = redis.call('HMGET', KEYS[1], 'rt', 'client_id', 'prev', 'data')
if not g[4] then
  return {'missing'}
end
if g[2] ~= ARGV[3] then return {'wrong_client'} end
if g[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'rt', ARGV[2], 'prev', ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[1])
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
  return {'ok', g[4]}
end
if g[1] == ARGV[2] and g[3] == ARGV[1] then return {'ok', g[4]} end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {'reused'}
end
return {'missing'}
"""

# KEYS: session. ARGV: now, idle seconds. Slides the idle timeout, never past the
# absolute expiry. Returns the session data or nil (and deletes an expired one).
TOUCH_SESSION = """
local v = redis.call('HGET', KEYS[1], 'd')
if not v then return false end
local abs = tonumber(redis.call('HGET', KEYS[1], 'abs'))
local ttl = math.min(tonumber(ARGV[2]), abs - tonumber(ARGV[1]))
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('EXPIRE', KEYS[1], ttl)
return redis.call('HGETALL', KEYS[1])
"""

# KEYS: transaction. ARGV: attempt id, seconds to keep the taken marker, browser digest.
# Takes a login transaction once, only for the browser it is bound to: a retry with the
# same attempt id gets it again, any other caller gets nothing. Returns the fields or nil.
TAKE_TRANSACTION = """
local v = redis.call('HGETALL', KEYS[1])
if #v == 0 then return false end
if redis.call('HGET', KEYS[1], 'browser') ~= ARGV[3] then return false end
local taken = redis.call('HGET', KEYS[1], 'taken')
if taken and taken ~= ARGV[1] then return false end
if not taken then
  redis.call('HSET', KEYS[1], 'taken', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  table.insert(v, 'taken')
  table.insert(v, ARGV[1])
end
return v
"""

# KEYS: transaction. ARGV: seconds it lives from now on, then field, value, ...
# Updates a live, untaken transaction only, and gives it the lifetime of one in progress
# (the citizen acted). Returns 1, or 0 when there was none to update. Idempotent.
UPDATE_TRANSACTION = """
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HEXISTS', KEYS[1], 'taken') == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

# KEYS: person, person bucket (person + address, or person + known browser), address.
# ARGV: limit for each key (0: the key is not used for this attempt), window seconds.
# Reserves one PIN attempt: refuses it when any used counter has reached its limit, else
# counts it in every used counter (each lives for the window from its first attempt).
# Checking and counting in one step is what bounds parallel guesses by the limits.
# Returns 0 (reserved) or the seconds until the lock that refused it lifts. A retry after
# a failover may count an attempt twice: that errs on the safe side.
RESERVE_PIN_ATTEMPT = """
for i = 1, 3 do
  local limit = tonumber(ARGV[i])
  if limit > 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then
    return math.max(redis.call('TTL', KEYS[i]), 1)
  end
end
for i = 1, 3 do
  if tonumber(ARGV[i]) > 0 then
    redis.call('INCR', KEYS[i])
    redis.call('EXPIRE', KEYS[i], ARGV[4], 'NX')
  end
end
return 0
"""

# KEYS: person, person bucket, address. ARGV: 1 when the person key was counted.
# After a right PIN: clears the bucket and gives back the attempt the person and address
# counters hold for it (never below zero, so a retry gives back nothing more than one).
RELEASE_PIN_ATTEMPT = """
redis.call('DEL', KEYS[2])
local give_back = {KEYS[3]}
if ARGV[1] == '1' then table.insert(give_back, KEYS[1]) end
for _, k in ipairs(give_back) do
  if tonumber(redis.call('GET', k) or '0') > 0 then redis.call('DECR', k) end
end
return 1
"""

# KEYS: session, delivery, delivery queue. ARGV: queue deliveries (1/0), due (epoch s),
# deliver until (epoch s), delivery key TTL.
# Logout: deletes the session and, in the same step, queues the back-channel logout of
# every e-service that got a code in it, so no node can die between the two and lose a
# logout. Returns the session's fields (empty when it was already gone). A retry after
# a failover finds no session and returns nothing: the first run did the work.
END_SESSION = """
local f = redis.call('HGETALL', KEYS[1])
if #f == 0 then return f end
redis.call('DEL', KEYS[1])
if ARGV[1] == '1' then
  local d = {}
  local data = nil
  for i = 1, #f, 2 do
    if string.sub(f[i], 1, 3) == 'rp:' then
      table.insert(d, f[i]); table.insert(d, f[i + 1])
    elseif f[i] == 'd' then
      data = f[i + 1]
    end
  end
  if #d > 0 and data then
    redis.call('HSET', KEYS[2], 'd', data, 'until', ARGV[3], 'attempts', 0, unpack(d))
    redis.call('EXPIRE', KEYS[2], ARGV[4])
    redis.call('ZADD', KEYS[3], ARGV[2], KEYS[2])
  end
end
return f
"""

# KEYS: delivery, delivery queue. ARGV: now, lease seconds.
# Claims a due delivery for one node for ``lease`` seconds (a node that dies mid-delivery
# lets it fall due again for another). Returns its fields, or an empty list when it is
# not due (another node holds it) or gone (then it also leaves the queue).
CLAIM_DELIVERY = """
local due = redis.call('ZSCORE', KEYS[2], KEYS[1])
if not due or tonumber(due) > tonumber(ARGV[1]) then return {} end
local f = redis.call('HGETALL', KEYS[1])
if #f == 0 then
  redis.call('ZREM', KEYS[2], KEYS[1])
  return {}
end
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), KEYS[1])
return f
"""

# KEYS: delivery, delivery queue. ARGV: next due (epoch s), then the e-services that took
# their logout token (or gave up). Removes those; when none is left the delivery is
# done and leaves the queue, else it falls due again at ``next due``. Idempotent.
# Returns how many e-services are still waiting.
SETTLE_DELIVERY = """
for i = 2, #ARGV do redis.call('HDEL', KEYS[1], 'rp:' .. ARGV[i]) end
local left = 0
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(k, 1, 3) == 'rp:' then left = left + 1 end
end
if left == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], KEYS[1])
else
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1])
end
return left
"""
