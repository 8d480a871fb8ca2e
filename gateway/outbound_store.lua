-- Accept one core message: idempotency claim, message hash, history, stream entry and the
-- "queued" status job, all or nothing.
-- KEYS[1] message hash  KEYS[2] history list  KEYS[3] stream  KEYS[4] "queued" status marker
-- ARGV[1] TTL of the message keys  ARGV[2] marker TTL  ARGV[3] history entry JSON
-- ARGV[4] n field/value pairs, then 2n values, then the RQ commands (count, then nargs + args each)
-- Returns {'new', 'queued'} or {'dup', <current status>}.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'dup', redis.call('HGET', KEYS[1], 'status') or 'queued'}
end
local nf = tonumber(ARGV[4])
for k = 0, nf - 1 do redis.call('HSET', KEYS[1], ARGV[5 + 2 * k], ARGV[6 + 2 * k]) end
redis.call('HSET', KEYS[1], 'status', 'queued')
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'o', redis.call('HGET', KEYS[1], 'id'))
if redis.call('SET', KEYS[4], 1, 'NX', 'EX', ARGV[2]) then
  run_commands(5 + 2 * nf)  -- gateway/run_commands.lua, prepended at load
end
return {'new', 'queued'}
