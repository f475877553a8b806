"""Lua scripts: the atomic operations of the store. Each is idempotent for a retry that
carries the same attempt id, so the one retry policy may run it again after a failover."""

from __future__ import annotations

# KEYS: grant. ARGV: code digest, attempt id, now (epoch s), refresh-token digest.
# Redeems the code once and, in the same step, arms its grant (written with the code
# when the login finished): sets the refresh-token digest and the grant's own expiry
# ('ea'). The grant keeps 'used' (the attempt that redeemed it) for as long as it lives,
# so a replay finds it and the caller revokes the grant.
# Returns {"ok", code grant, expires_at} | {"reused", code grant} | {"missing"} (unknown,
# expired, or its login has ended: a logout deletes the session's grants).
CONSUME_CODE = """
local g = redis.call('HMGET', KEYS[1], 'code', 'cg', 'cx', 'used', 'ea')
if not g[1] or g[1] ~= ARGV[1] then return {'missing'} end
if g[4] then
  if g[4] == ARGV[2] then return {'ok', g[2], g[5]} end
  return {'reused', g[2]}
end
if tonumber(g[3]) < tonumber(ARGV[3]) then return {'missing'} end
redis.call('HSET', KEYS[1], 'used', ARGV[2], 'rt', ARGV[4])
redis.call('EXPIREAT', KEYS[1], g[5])
return {'ok', g[2], g[5]}
"""

# KEYS: grant. ARGV: presented digest, new digest, client id.
# Rotates the family's refresh token. Every rotated-away digest stays in the grant as
# 'u:<digest>', so presenting one again revokes the family (deletes the grant).
# Returns {"ok", code grant, expires_at} | {"reused"} | {"wrong_client"} | {"missing"}
# (also for a grant not yet redeemed: it has no refresh token).
ROTATE_REFRESH = """
local g = redis.call('HMGET', KEYS[1], 'rt', 'client_id', 'prev', 'cg', 'ea', 'u:' .. ARGV[1])
if not g[4] or g[1] == '' then return {'missing'} end
if g[2] ~= ARGV[3] then return {'wrong_client'} end
if g[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'rt', ARGV[2], 'prev', ARGV[1], 'u:' .. ARGV[1], '1')
  return {'ok', g[4], g[5]}
end
if g[1] == ARGV[2] and g[3] == ARGV[1] then return {'ok', g[4], g[5]} end
if g[6] then
  redis.call('DEL', KEYS[1])
  return {'reused'}
end
return {'missing'}
"""

# KEYS: grant. ARGV: access token id (jti). Remembers a revoked access token in its
# grant (never makes a grant that is gone: without it the token is refused anyway).
REVOKE_ACCESS_TOKEN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'x:' .. ARGV[1], '1')
return 1
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

# KEYS: finished marker, session, grant, audit stream, the person's session index, then
# (finishing a PIN login) person, person bucket, address. ARGV: attempt id, marker
# seconds, session seconds, grant seconds, number of session values, number of grant
# values, PIN release ('' none, '1' the person counter was counted, '0' not), number of
# audit values, the audit stream's bound, the index's seconds, then the session's
# field/value pairs, the grant's, the audit event's.
# Finishes a login once: the marker (one per login transaction) is set for the first
# attempt only; that attempt writes the session and the grant with its code, appends the
# login's audit event (no login without its event: the same step, the same WAIT), notes
# the session in the person's index (the support desk's "log this citizen out
# everywhere"), and gives back the right PIN's reservation: clears its bucket, and takes
# one from the address and (when counted) the person, never below zero. A retry of the
# same attempt finds its own marker: the first run did everything. Returns 1, or 0 when
# another attempt finished this login first (nothing is written then).
FINISH_LOGIN = """
local held = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET', 'EX', ARGV[2])
if held then
  if held == ARGV[1] then return 1 end
  return 0
end
local ns, ng, na = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[8])
redis.call('HSET', KEYS[2], unpack(ARGV, 11, 10 + ns))
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 11 + ns, 10 + ns + ng))
redis.call('EXPIRE', KEYS[3], ARGV[4])
if na > 0 then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', unpack(ARGV, 11 + ns + ng, 10 + ns + ng + na))
end
redis.call('SADD', KEYS[5], KEYS[2])
redis.call('EXPIRE', KEYS[5], ARGV[10])
if ARGV[7] ~= '' then
  redis.call('DEL', KEYS[7])
  local give_back = {KEYS[8]}
  if ARGV[7] == '1' then table.insert(give_back, KEYS[6]) end
  for _, k in ipairs(give_back) do
    if tonumber(redis.call('GET', k) or '0') > 0 then redis.call('DECR', k) end
  end
end
return 1
"""

# KEYS: person, person bucket (person + address, or person + known browser), address,
# the citizen's PIN record. ARGV: limit for each key (0: the key is not used for this
# attempt), window seconds.
# Reserves one PIN (or activation-code) attempt: refuses it when any used counter has
# reached its limit, else counts it in every used counter (each lives for the window from
# its first attempt). Checking and counting in one step is what bounds parallel guesses
# by the limits. Returns {seconds until the lock that refused it lifts} or, reserved,
# {0, then the record's PIN hash, given name, family name, state, activation-code hash,
# its expiry} (false for a field it lacks): the attempt and the lookup are one round
# trip. A retry after a failover may count an attempt twice: that errs on the safe side.
RESERVE_PIN_ATTEMPT = """
for i = 1, 3 do
  local limit = tonumber(ARGV[i])
  if limit > 0 and tonumber(redis.call('GET', KEYS[i]) or '0') >= limit then
    return {math.max(redis.call('TTL', KEYS[i]), 1)}
  end
end
for i = 1, 3 do
  if tonumber(ARGV[i]) > 0 then
    redis.call('INCR', KEYS[i])
    redis.call('EXPIRE', KEYS[i], ARGV[4], 'NX')
  end
end
local r = redis.call('HMGET', KEYS[4], 'h', 'gn', 'fn', 'st', 'ch', 'cx')
return {0, r[1], r[2], r[3], r[4], r[5], r[6]}
"""

# KEYS: a citizen's PIN record, audit stream. ARGV: condition field ('' none), the value
# it must hold ('' : absent), done field, done value ('' none), the stream's bound,
# number of set values, number of fields to delete, number of audit values, then the
# field/value pairs to set, the fields to delete, the audit event's field/value pairs.
# Changes one PIN record in one step with its audit event (no PIN change without its
# event). The condition makes a change happen once: an activation code is taken by the
# first activation only ('ch' still the code's hash), an import never overwrites a record
# ('st' absent), a re-hash only replaces the hash it verified. A retry after a failover
# finds the done field (the new PIN hash, salted: unique) and answers 1 again.
# Returns 1 (changed), 0 (the condition failed: nothing written).
UPDATE_PIN_RECORD = """
if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], ARGV[3]) == ARGV[4] then return 1 end
if ARGV[1] ~= '' and (redis.call('HGET', KEYS[1], ARGV[1]) or '') ~= ARGV[2] then
  return 0
end
local ns, nd, na = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if ns > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 9, 8 + ns)) end
if nd > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 9 + ns, 8 + ns + nd)) end
if na > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', unpack(ARGV, 9 + ns + nd, 8 + ns + nd + na))
end
return 1
"""

# KEYS: session, delivery, delivery queue, audit stream. ARGV: notify (1/0), due (epoch
# s), deliver until (epoch s), delivery key TTL, grant key prefix, then the logout's
# audit event ('' for none: the stream's bound, event id, time, e-service, node,
# reference, detail); its subject is the pseudonym the session keeps ('as').
# Logout: deletes the session and, with notify, in the same step revokes every grant
# issued in it (their keys are named by the session's 'g:' fields: Redis behind
# Sentinel is one primary, so a script may reach keys it learns of) and queues the
# back-channel logout of every e-service that got a code in it, so no node can die
# between the steps and lose a logout or leave a grant alive. Returns the session's
# fields (empty when it was already gone). A retry after a failover finds no session
# and returns nothing: the first run did the work.
END_SESSION = """
local f = redis.call('HGETALL', KEYS[1])
if #f == 0 then return f end
redis.call('DEL', KEYS[1])
if ARGV[6] ~= '' then
  local subject, method = '', ''
  for i = 1, #f, 2 do
    if f[i] == 'as' then subject = f[i + 1] end
  end
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'kind', 'logout',
    'outcome', 'success', 'ts', ARGV[8], 'subject', subject, 'client_id', ARGV[9],
    'method', '', 'acr', '', 'node', ARGV[10], 'reference', ARGV[11], 'detail', ARGV[12],
    'event_id', ARGV[7])
end
if ARGV[1] == '1' then
  local d = {}
  local grants = {}
  local data = nil
  for i = 1, #f, 2 do
    local kind = string.sub(f[i], 1, 3)
    if kind == 'rp:' then
      table.insert(d, f[i]); table.insert(d, f[i + 1])
    elseif string.sub(kind, 1, 2) == 'g:' then
      table.insert(grants, ARGV[5] .. string.sub(f[i], 3))
    elseif f[i] == 'd' then
      data = f[i + 1]
    end
  end
  if #grants > 0 then redis.call('DEL', unpack(grants)) end
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
