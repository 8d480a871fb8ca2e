-- One Telegram message joins its chat's conversation, atomically (one round trip).
-- KEYS: conversation hash, message map key, phone key (all tagged {chat}: one hash slot)
-- ARGV: record id, date (unix s), follow-up window s, report idle s, is_media, is_bare_contact,
--       conversation ttl s, message map ttl s, own phone shared now ("" if none), phone ttl s
-- Returns: {first record id, thread id, follow_up 0|1, confidential 0|1, anonymous 0|1, known phone|""}
local conv, mkey, pkey = KEYS[1], KEYS[2], KEYS[3]
local id, date = ARGV[1], tonumber(ARGV[2])
local window, idle = tonumber(ARGV[3]), tonumber(ARGV[4])
local media, bare = ARGV[5] == '1', ARGV[6] == '1'
local conv_ttl, msg_ttl = tonumber(ARGV[7]), tonumber(ARGV[8])
local phone, phone_ttl = ARGV[9], tonumber(ARGV[10])

local s = redis.call('HMGET', conv, 'first', 'thread', 'last_at', 'open', 'confidential', 'anonymous')
local first, thread, last_at = s[1], s[2], tonumber(s[3]) or 0
if first == false then first = nil end
if thread == false then thread = nil end
local explicit = s[4] == '1' and (date - last_at) <= idle

local rfirst, rthread, follow = id, id, 0
if first and first == id then                       -- re-processing the message that opened the thread
  rfirst, rthread = first, thread or first
elseif explicit and first then                      -- inside an open /lapor
  rfirst, rthread, follow = first, thread or first, 1
elseif explicit then                                -- first message of an open /lapor
  rfirst, rthread = id, id
elseif first and media and (date - last_at) <= window then
  rfirst, rthread, follow = first, thread or first, 1
end

local conf, anon = 0, 0
if explicit and s[5] == '1' then conf = 1 end
if explicit and s[6] == '1' then anon = 1 end

local standalone_contact = bare and follow == 0
if not standalone_contact then
  if follow == 0 and not (first and first == id) then
    if not explicit then redis.call('HDEL', conv, 'open', 'confidential', 'anonymous') end
    redis.call('HSET', conv, 'first', rfirst, 'thread', rthread)
  end
  local new_last = date
  if last_at > date then new_last = last_at end
  redis.call('HSET', conv, 'last_at', string.format('%.3f', new_last))
  redis.call('EXPIRE', conv, conv_ttl)
  redis.call('SET', mkey, id .. ' ' .. rthread, 'EX', msg_ttl)
end

local known = ''
if phone ~= '' then
  redis.call('SET', pkey, phone, 'EX', phone_ttl)
  known = phone
else
  known = redis.call('GET', pkey) or ''
end
return {rfirst, rthread, follow, conf, anon, known}
