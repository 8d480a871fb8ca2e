-- Idempotent, atomic intake of a batch of messages (one round trip for the whole batch).
-- KEYS[1]      stream (lapor:inbound)
-- KEYS[2..n]   idempotency claims (lapor:idem:<channel>:<native id>)
-- ARGV[1]      claim TTL in seconds
-- ARGV[2k], ARGV[2k+1]  record id and message JSON of the k-th message (k = 1..n-1)
-- Returns a flat list: status ("new" | "dup"), record id, … per message, in order.
-- A claim that already holds this message's own record id counts as "new" (a retried call).
local ttl = tonumber(ARGV[1])
local out = {}
for i = 2, #KEYS do
  local rid = ARGV[2 * (i - 1)]
  local msg = ARGV[2 * (i - 1) + 1]
  if redis.call('SET', KEYS[i], rid, 'NX', 'EX', ttl) then
    redis.call('XADD', KEYS[1], '*', 'id', rid, 'msg', msg)
    out[#out + 1] = 'new'
    out[#out + 1] = rid
  else
    local got = redis.call('GET', KEYS[i])
    -- our own record id: this very call, retried after a lost reply (ids are random ULIDs)
    if got == rid then out[#out + 1] = 'new' else out[#out + 1] = 'dup' end
    out[#out + 1] = got
  end
end
return out
