-- Prelude shared by the scripts that run RQ's own enqueue commands inside their atomic step
-- (dispatcher/delivery.lua, gateway/outbound_store.lua): ARGV from index i holds a command count,
-- then for each command its argument count and arguments.
local function run_commands(i)
  local ncmd = tonumber(ARGV[i]); i = i + 1
  for _ = 1, ncmd do
    local nargs = tonumber(ARGV[i]); i = i + 1
    local args = {}
    for k = 1, nargs do args[k] = ARGV[i + k - 1] end
    i = i + nargs
    redis.call(unpack(args))
  end
end
