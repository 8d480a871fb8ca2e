-- Conversation state claims (dispatcher/conversation.py). One script, three operations, each atomic,
-- so several dispatcher processes agree on who owns a held record or a reply link. Every claim is
-- re-entrant for the same stream entry: a worker killed after claiming is replaced by one that
-- re-processes the same entry and gets the same answer.
--
-- answer  KEYS[1]=held hash   ARGV: op, entry id, now          -> {"answer", record} | {"late"} | {"none"}
-- timeout KEYS[1]=held hash   ARGV: op, now, grace             -> {"timeout"|"failed", record} | false
-- failed  KEYS[1]=held hash, KEYS[2]=expect hash, KEYS[3]=due zset  ARGV: op, question id, now, record id
--                                                            -> 1 when the waiting hold is released now, else 0
-- expect  KEYS[1]=expect hash ARGV: op, entry id, now          -> {record id, outbound id} | false
-- release KEYS[1]=expect hash ARGV: op, field, value           -> deletes the hash when field == value
local op = ARGV[1]
if op == 'answer' then
  local h = redis.call('HMGET', KEYS[1], 'state', 'deadline', 'by', 'record')
  if not h[1] then return {'none'} end
  if h[1] == 'waiting' then
    if tonumber(ARGV[3]) > tonumber(h[2]) then return {'late'} end
    redis.call('HSET', KEYS[1], 'state', 'answer', 'by', ARGV[2])
    return {'answer', h[4]}
  end
  if h[1] == 'answer' and h[3] == ARGV[2] then return {'answer', h[4]} end
  return {'late'}
elseif op == 'timeout' then
  local h = redis.call('HMGET', KEYS[1], 'state', 'deadline', 'record')
  if not h[1] then return false end
  local now = tonumber(ARGV[2])
  if h[1] == 'failed' then return {'failed', h[3]} end
  if h[1] == 'timeout'
     or (h[1] == 'waiting' and now >= tonumber(h[2]))
     or (h[1] == 'answer' and now >= tonumber(h[2]) + tonumber(ARGV[3])) then
    redis.call('HSET', KEYS[1], 'state', 'timeout')
    return {'timeout', h[3]}
  end
  return false
elseif op == 'failed' then
  -- the question never reached the citizen: nothing to wait for, and the next message is not an answer
  if redis.call('HGET', KEYS[1], 'state') ~= 'waiting' then return 0 end
  redis.call('HSET', KEYS[1], 'state', 'failed', 'deadline', ARGV[3])
  if redis.call('HGET', KEYS[2], 'outbound_id') == ARGV[2] then redis.call('DEL', KEYS[2]) end
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])  -- the next sweep dispatches it
  return 1
elseif op == 'expect' then
  local h = redis.call('HMGET', KEYS[1], 'record_id', 'outbound_id', 'until', 'by')
  if not h[1] then return false end
  if tonumber(ARGV[3]) > tonumber(h[3]) then return false end
  if h[4] and h[4] ~= ARGV[2] then return false end
  redis.call('HSET', KEYS[1], 'by', ARGV[2])
  return {h[1], h[2]}
elseif op == 'release' then
  if redis.call('HGET', KEYS[1], ARGV[2]) == ARGV[3] then redis.call('DEL', KEYS[1]) end
  return 1
end
return redis.error_reply('unknown op')
