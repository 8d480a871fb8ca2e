-- One status change of one outbound message, forward only, and its core job exactly once.
-- KEYS[1] message hash   KEYS[2] history list   KEYS[3] status marker   KEYS[4] part-status hash
-- ARGV[1] message status to reach ('' = only record the part)   ARGV[2] history entry JSON
-- ARGV[3] part index ('' = none)   ARGV[4] the part's own status   ARGV[5] what the caller expects
-- the parts to add up to ('' = not all reported yet)   ARGV[6] TTL seconds of the message keys
-- ARGV[7] marker TTL   ARGV[8] n = field/value pairs to set on the hash, then 2n values,
-- then the RQ commands (run_commands, from gateway/run_commands.lua, prepended at load).
-- Returns 'ok' | 'stale' (not forward: dropped) | 'part' (part recorded) | 'mismatch' (retry).
local order = {queued = 1, sent = 2, delivered = 3, read = 4}
local function forward(cur, new)
  if not cur or cur == '' then return true end
  if cur == 'failed' then return false end
  if new == 'failed' then return true end
  return (order[new] or 0) > (order[cur] or 0)
end

local status = ARGV[1]
local part = ARGV[3]
if part ~= '' then
  local pstatus = ARGV[4]
  if not forward(redis.call('HGET', KEYS[4], part), pstatus) then return 'stale' end
  local total = tonumber(redis.call('HGET', KEYS[1], 'parts') or '1') or 1
  local seen = redis.call('HGETALL', KEYS[4])
  local states = {}
  for k = 1, #seen, 2 do states[seen[k]] = seen[k + 1] end
  states[part] = pstatus
  local agg, n, low = '', 0, 5
  for _, st in pairs(states) do
    n = n + 1
    if st == 'failed' then agg = 'failed' end
    if order[st] and order[st] < low then low = order[st] end
  end
  if agg == '' and n >= total then
    for name, rank in pairs(order) do if rank == low then agg = name end end
  end
  if agg ~= ARGV[5] then return 'mismatch' end
  redis.call('HSET', KEYS[4], part, pstatus)
  redis.call('EXPIRE', KEYS[4], ARGV[6])
  if status == '' then return 'part' end
end
if status == '' or not forward(redis.call('HGET', KEYS[1], 'status'), status) then return 'stale' end
local nf = tonumber(ARGV[8])
redis.call('HSET', KEYS[1], 'status', status)
for k = 0, nf - 1 do redis.call('HSET', KEYS[1], ARGV[9 + 2 * k], ARGV[10 + 2 * k]) end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
if redis.call('SET', KEYS[3], 1, 'NX', 'EX', ARGV[7]) then run_commands(9 + 2 * nf) end
return 'ok'
