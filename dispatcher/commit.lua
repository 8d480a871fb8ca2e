-- One dispatch batch into the core RQ queue, exactly once, in one atomic step (dispatcher/core_queue.py).
-- For each record: its marker lapor:enq:<id> is set with NX; only when that succeeds is its RQ job
-- hash written (field for field as RQ's enqueue_many does), its id pushed onto the queue and its own
-- recorded commands (route, acknowledgement, channel hook state) run. A record another worker
-- enqueued already is skipped. Then every stream entry of the batch is acknowledged and the batch's
-- own recorded commands run. A recorded command that fails (e.g. a wrong-type key) does not stop
-- the rest, as in a MULTI: it is counted and the caller logs it (the layout of a command block is
-- gateway/run_commands.lua's, but a failure there would abort the script half-way).
-- ARGV: 1 stream  2 group  3 marker prefix  4 marker TTL  5 job key prefix  6 queue key
--       7 queue registry (rq:queues)  8 queue name  9 now (RQ time)  10 job timeout
--       11 description prefix  12 attempts hash  13 n records,
--       then per record: id, job data, its command block; then m entry ids, the ids;
--       then the batch's command block.
-- Returns {records enqueued now, failed recorded commands, the first failure's message}.
local CHUNK = 1000  -- unpack() stays far below Lua's C stack limit
local failed, first_error = 0, ''
local function run_commands(i)
  local ncmd = tonumber(ARGV[i]); i = i + 1
  for _ = 1, ncmd do
    local nargs = tonumber(ARGV[i])
    local res = redis.pcall(unpack(ARGV, i + 1, i + nargs))
    if type(res) == 'table' and res.err then
      failed = failed + 1
      if first_error == '' then first_error = res.err end
    end
    i = i + 1 + nargs
  end
  return i
end
local function skip_commands(i)
  local ncmd = tonumber(ARGV[i]); i = i + 1
  for _ = 1, ncmd do i = i + 1 + tonumber(ARGV[i]) end
  return i
end

local now, name, timeout, dprefix = ARGV[9], ARGV[8], ARGV[10], ARGV[11]
local n = tonumber(ARGV[13])
local i = 14
local new = {}
for _ = 1, n do
  local id, data = ARGV[i], ARGV[i + 1]
  if redis.call('SET', ARGV[3] .. id, 1, 'NX', 'EX', ARGV[4]) then
    redis.call('HSET', ARGV[5] .. id, 'created_at', now, 'data', data, 'origin', name,
               'description', dprefix .. id, 'enqueued_at', now, 'timeout', timeout, 'status', 'queued')
    new[#new + 1] = id
    i = run_commands(i + 2)
  else
    i = skip_commands(i + 2)
  end
end
if #new > 0 then
  redis.call('SADD', ARGV[7], ARGV[6])
  for s = 1, #new, CHUNK do
    redis.call('RPUSH', ARGV[6], unpack(new, s, math.min(s + CHUNK - 1, #new)))
  end
end
local m = tonumber(ARGV[i])
if m > 0 then
  for s = i + 1, i + m, CHUNK do
    local last = math.min(s + CHUNK - 1, i + m)
    redis.call('XACK', ARGV[1], ARGV[2], unpack(ARGV, s, last))
    redis.call('HDEL', ARGV[12], unpack(ARGV, s, last))
  end
end
run_commands(i + 1 + m)
return {#new, failed, first_error}
