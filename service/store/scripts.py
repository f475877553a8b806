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

# KEYS: transaction. ARGV: field, value, ... Updates a live, untaken transaction only.
UPDATE_TRANSACTION = """
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HEXISTS', KEYS[1], 'taken') == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
  return 1
end
return 0
"""
