#!lua name=dvcbot
-- dvcbot's Redis functions: every Lua script the service runs on Redis, in
-- one library (Redis 7 Functions, needs redis-server 7.0 or later).
--
-- The store loads this file with FUNCTION LOAD REPLACE on every new
-- connection before it sends anything else (src/store.c), `dvcbot import` on
-- its own, unless Redis holds a newer version (LIBRARY_VERSION below); C calls a function with FCALL <name> <numkeys> <keys...> <args...>
-- (src/redis_script.c). The comment above each function names its keys and
-- arguments (keys[i], args[i]) and what it returns; the C file named in
-- brackets is its caller. The file is installed with the binary and read
-- from DVCBOT_DATA_DIR/redis/dvcbot.lua.
--
-- A few functions reach keys they compute (a dossier from a payment record,
-- broadcasts by number): fine on one Redis, not on Redis Cluster.

-- The version of this library: raise it with every change of this file. A
-- process loads its library only when Redis holds none or one of a version
-- up to its own (src/redis_library.c reads the line below), so an old
-- process reconnecting during a rolling upgrade does not put its library
-- back over a newer one.
local LIBRARY_VERSION = 25

-- The version above (no keys, no arguments; writes nothing).
-- (redis_library)
redis.register_function{function_name = 'library_version', flags = {'no-writes'},
  callback = function() return LIBRARY_VERSION end}

-- a < b for whole numbers >= 0 written in decimal without leading zeros, as
-- this library and C write them (seq, od, oq, seen): by length, then by
-- bytes. tonumber is a strtod (~1 100 instructions), this a few dozen.
local function dec_lt(a, b)
  local la, lb = #a, #b
  if la ~= lb then return la < lb end
  return a < b
end

-- The *_flat functions answer the calls of a group (fcall_group.h) in one
-- flat array: for each call, the number of elements of its reply and then
-- those, or an error in place of that number for a call that failed alone.
-- Each table in a function's reply costs Redis ~2 500 instructions to
-- convert (it looks for err, ok, double... in each), an element in one
-- little. Each call writes its elements into the flat array in place (no
-- table of its own for Lua to make, fill and collect): a call that fails
-- after writing some has them removed before the next call writes there.

-- Creates the record (status resolving) and the stream with its group.
-- KEYS: bc:<id>, bc:<id>:q. ARGV: field, value, ...
-- (broadcast)
redis.register_function('broadcast_init', function(keys, args)
  redis.call('HSET', keys[1], unpack(args))
  redis.call('XGROUP', 'CREATE', keys[2], 'bcw', '0', 'MKSTREAM')
  return 1
end)

-- For each user: seen and commune of u:{<user>}, consent and commune of
-- the profile p:{<user>} (false when unreadable).
-- KEYS: u:{<user>}, p:{<user>}, ... in pairs.
-- (broadcast)
redis.register_function('broadcast_user_fields', function(keys, args)
  local out = {}
  for i = 1, #keys, 2 do
    local u = redis.pcall('HMGET', keys[i], 'seen', 'commune')
    local p = redis.pcall('HMGET', keys[i + 1], 'consent', 'commune')
    if type(u) == 'table' and not u.err and type(p) == 'table' and not p.err then
      out[#out + 1] = {u[1], u[2], p[1], p[2]}
    else out[#out + 1] = false end
  end
  return out
end)

-- The subscribers of those dossiers (of the page's sub:<CODE> keys) whose
-- status is ARGV[1].
-- (broadcast)
redis.register_function('broadcast_subscribers', function(keys, args)
  local out = {}
  for _, k in ipairs(keys) do
    local st = redis.pcall('HGET', 'dossier:' .. string.sub(k, 5), 'status')
    if st == args[1] then
      local m = redis.pcall('SMEMBERS', k)
      if type(m) == 'table' and not m.err then
        for _, u in ipairs(m) do out[#out + 1] = u end
      end
    end
  end
  return out
end)

-- Resolved: due in bc:active, or done at once when nobody matched.
-- KEYS: bc:<id>, bc:<id>:q, bc:active. ARGV: recipients, batches, score,
-- id, now, seconds to keep.
-- (broadcast)
redis.register_function('broadcast_resolved', function(keys, args)
  if redis.call('HGET', keys[1], 'status') ~= 'resolving' then return 'gone' end
  if args[1] == '0' then
    redis.call('HSET', keys[1], 'status', 'done', 'recipients', 0, 'finished', args[5])
    redis.call('DEL', keys[2])
    redis.call('EXPIRE', keys[1], args[6])
    return 'done'
  end
  redis.call('HSET', keys[1], 'status', 'scheduled', 'recipients', args[1], 'batches', args[2])
  redis.call('ZADD', keys[3], args[3], args[4])
  return 'scheduled'
end)

-- Ends a broadcast early and removes who was still to be sent to, and the
-- batches from their refs:{<user>} (nothing is left pointing at them).
-- Cancels a scheduled or running one (mode "cancel") or drops one whose
-- resolving failed (mode "abort"). Returns the status it found ('' when
-- missing).
-- KEYS: bc:<id>, bc:<id>:q. ARGV: mode, new status, now, seconds to keep,
-- batches written so far (abort).
-- (broadcast)
redis.register_function('broadcast_stop', function(keys, args)
  local s = redis.call('HGET', keys[1], 'status')
  if not s then return '' end
  local ok = (args[1] == 'cancel' and (s == 'scheduled' or s == 'running'))
    or (args[1] == 'abort' and s == 'resolving')
  if not ok then return s end
  local n = tonumber(args[5]) or 0
  local stored = tonumber(redis.call('HGET', keys[1], 'batches') or '0') or 0
  if stored > n then n = stored end
  for i = 1, n do
    local b = keys[1] .. ':b:' .. i
    for _, u in ipairs(redis.call('SMEMBERS', b)) do
      redis.call('SREM', 'refs:{' .. u .. '}', b)
    end
    redis.call('DEL', b)
  end
  redis.call('DEL', keys[2])
  redis.call('HSET', keys[1], 'status', args[2], 'finished', args[3])
  redis.call('EXPIRE', keys[1], args[4])
  redis.call('EXPIRE', keys[1] .. ':fail', args[4])
  return s
end)

-- Marks a due broadcast running and returns {status, text, buttons}.
-- KEYS: bc:<id>. ARGV: now.
-- (broadcast_worker)
redis.register_function('broadcast_start', function(keys, args)
  local s = redis.call('HGET', keys[1], 'status')
  if s == 'scheduled' then redis.call('HSET', keys[1], 'status', 'running', 'started', args[1])
  s = 'running' end
  return {s or '', redis.call('HGET', keys[1], 'text') or '',
  redis.call('HGET', keys[1], 'buttons') or '[]'}
end)

-- Records one recipient's verdict; acks the batch's entry when its set is
-- empty and ends the broadcast when its stream is. Returns a bit set:
-- FINISH_COUNTED, FINISH_DONE (the broadcast is done now), FINISH_STOPPED
-- (it is not running any more: cancelled). A user named in the failure list
-- gets it in refs:{<user key>} (for erase-my-data), and only then: a user
-- erased meanwhile is no longer in the batch and leaves no trace.
-- KEYS: bc:<id>, bc:<id>:b:<n>, bc:<id>:fail, bc:<id>:q, refs:{<user key>}.
-- ARGV: user key ("" = only check the batch), counter, reason ("" = none),
-- entry id, consumer, failures kept, now, seconds to keep the record, seconds
-- refs:{} lives (DVCBOT_USER_TTL).
-- (broadcast_worker)
redis.register_function('broadcast_verdict', function(keys, args)
  local counted = 0
  if args[1] ~= '' and redis.call('SREM', keys[2], args[1]) == 1 then
    counted = 1
    redis.call('HINCRBY', keys[1], args[2], 1)
    if args[3] ~= '' then
      redis.call('HINCRBY', keys[1], 'reason:' .. args[3], 1)
      if redis.call('HLEN', keys[3]) < tonumber(args[6]) then
        redis.call('SADD', keys[5], keys[3])
        redis.call('EXPIRE', keys[5], args[9])
        redis.call('HSET', keys[3], args[1], args[3]) end
    end
  end
  local running = redis.call('HGET', keys[1], 'status') == 'running'
  if not running then return counted + 4 end
  if redis.call('SCARD', keys[2]) > 0 then
    redis.pcall('XCLAIM', keys[4], 'bcw', args[5], 0, args[4], 'JUSTID')
    return counted
  end
  redis.pcall('XACK', keys[4], 'bcw', args[4])
  redis.call('XDEL', keys[4], args[4])
  if redis.call('XLEN', keys[4]) > 0 then return counted end
  redis.call('HSET', keys[1], 'status', 'done', 'finished', args[7])
  redis.call('DEL', keys[4])
  redis.call('EXPIRE', keys[1], args[8])
  redis.call('EXPIRE', keys[3], args[8])
  return counted + 2
end)

-- The last ARGV[1] broadcasts, newest first: {id, fields...} each.
-- (console_broadcasts)
redis.register_function('console_broadcast_list', function(keys, args)
  local n = tonumber(redis.call('GET', 'bc:next') or '0') or 0
  local out = {}
  for id = n, math.max(1, n - tonumber(args[1]) + 1), -1 do
    local h = redis.call('HMGET', 'bc:' .. id, 'status', 'text', 'segment', 'created',
      'not_before', 'finished', 'recipients', 'sent', 'failed', 'blocked', 'skipped')
    if h[1] then table.insert(h, 1, tostring(id)) out[#out + 1] = h end
  end return out
end)

-- KEYS: one SCAN page of dossier:* keys. Returns the fields of each hash.
-- (console_indicators)
redis.register_function('console_indicator_hashes', function(keys, args)
  local out = {}
  for _, k in ipairs(keys) do
    if redis.call('TYPE', k).ok == 'hash' then
      out[#out + 1] = redis.call('HMGET', k, unpack(args))
    end
  end return out
end)

-- KEYS: day hash and code list of each day, in pairs.
-- (console_indicators)
redis.register_function('console_indicator_days', function(keys, args)
  local out = {}
  for i = 1, #keys, 2 do
    out[#out + 1] = redis.call('HGETALL', keys[i])
    out[#out + 1] = redis.call('LRANGE', keys[i + 1], 0, -1)
  end return out
end)

-- KEYS: console:s:<sid>, console:ok:<addr>. ARGV: fp, commune, csrf, created,
-- expires, seconds it lasts, seconds the address is known (0: not at all).
-- (console_session)
redis.register_function('console_session_open', function(keys, args)
  redis.call('HSET', keys[1], 'fp', args[1], 'commune', args[2], 'csrf', args[3],
  'created', args[4], 'expires', args[5])
  if tonumber(args[7]) > 0 then redis.call('SET', keys[2], '1', 'EX', args[7]) end
  return redis.call('EXPIRE', keys[1], args[6])
end)

-- A session in use: expires moves to ARGV[1] (never back), the key lives
-- ARGV[2] seconds more. A session signed out meanwhile stays gone.
-- KEYS: console:s:<sid>.
-- (console_session)
redis.register_function('console_session_touch', function(keys, args)
  local e = redis.call('HGET', keys[1], 'expires')
  if not e or tonumber(args[1]) <= tonumber(e) then return 0 end
  redis.call('HSET', keys[1], 'expires', args[1])
  return redis.call('EXPIRE', keys[1], args[2])
end)

-- KEYS: console:fail:<addr>, console:fail:t:<token hash>, console:fail:all.
-- ARGV: window (s).
-- (console_session)
redis.register_function('console_signin_failed', function(keys, args)
  for _, kk in ipairs(keys) do
    if redis.call('INCR', kk) == 1 then redis.call('EXPIRE', kk, args[1]) end
  end return 1
end)

-- KEYS[1] dossier:<code>, KEYS[2] dossier:changes, KEYS[3] remind:due,
-- KEYS[4] hs:p:<code> (follows waiting for it: a new dossier with some is
-- put in dossier:changes too, for notify to settle them).
-- ARGV[1] now, ARGV[2] code, ARGV[3] commune guard: '' none, or '=<commune>'
-- (an existing dossier is written only when its stored commune is exactly
-- that), ARGV[4..] field/value pairs.
-- Returns {0 unchanged | 1 updated | 2 created, old status or ""}, or
-- {3, stored commune or ""} when the guard refused (nothing written).
-- A dossier paid through our gateway (paid_via) stays paid while its fee is
-- at most what was paid (paid_amount, else the fee it had): a later export
-- still saying unpaid does not undo the payment, a raised fee is due again.
-- (dossier)
redis.register_function('dossier_upsert', function(keys, args)
  if args[3] ~= '' and redis.call('EXISTS', keys[1]) == 1 then
    local was = redis.call('HGET', keys[1], 'commune') or ''
    if was ~= string.sub(args[3], 2) then return {3, was} end
  end
  local rec, order = {}, {}
  for i = 4, #args, 2 do rec[args[i]] = args[i + 1]; order[#order + 1] = args[i] end
  local via = redis.call('HMGET', keys[1], 'paid_via', 'paid_amount', 'fee', 'paid')
  if via[1] then
    local fee = tonumber(rec['fee'] or via[3] or '0') or 0
    if fee <= (tonumber(via[2] or via[3] or '0') or 0) then
      if rec['paid'] == '0' then rec['paid'] = '1' end
      if rec['paid_online'] == '0' then rec['paid_online'] = '1' end
    elseif rec['paid'] ~= '1' and via[4] == '1' then
      if not rec['paid'] then order[#order + 1] = 'paid' end
      rec['paid'] = '0'
    end
  end
  local names = {'status'}
  for i = 1, #order do names[i + 1] = order[i] end
  local cur = redis.call('HMGET', keys[1], unpack(names))
  local old, new = cur[1], cur[1]
  local moved = false
  local set = {}
  for i = 1, #order do
    local f = order[i]
    local v = rec[f]
    if cur[i + 1] ~= v then set[#set + 1] = f; set[#set + 1] = v end
    if f == 'status' then new = v end
    if f == 'due_at' and cur[i + 1] ~= v then moved = true end
  end
  if #set == 0 then return {0, old or ''} end
  set[#set + 1] = 'updated_at'; set[#set + 1] = args[1]
  if not old then set[#set + 1] = 'created_at'; set[#set + 1] = args[1] end
  if old ~= new then set[#set + 1] = 'status_at'; set[#set + 1] = args[1]; moved = true end
  redis.call('HSET', keys[1], unpack(set))
  if (old and old ~= new) or (not old and redis.call('EXISTS', keys[4]) == 1) then
    redis.call('RPUSH', keys[2], args[2] .. ' ' .. new)
    redis.call('LTRIM', keys[2], -100000, -1)
  end
  -- the final statuses of dossier_status_final
  if new == 'da_co_ket_qua' or new == 'da_tra_ket_qua' or new == 'tu_choi' then
    redis.call('ZREM', keys[3], args[2])
  elseif moved then redis.call('ZADD', keys[3], args[1], args[2]) end
  return {old and 1 or 2, old or ''}
end)

-- Removes the user from one shared structure, whatever its type.
-- KEYS[1]: the structure; ARGV[1]: the user key.
-- (erase)
redis.register_function('erase_ref', function(keys, args)
  local t = redis.call('TYPE', keys[1]).ok
  if t == 'set' then return redis.call('SREM', keys[1], args[1])
  elseif t == 'hash' then return redis.call('HDEL', keys[1], args[1])
  elseif t == 'zset' then return redis.call('ZREM', keys[1], args[1])
  elseif t == 'list' then return redis.call('LREM', keys[1], 0, args[1])
  elseif t == 'string' and redis.call('GET', keys[1]) == args[1] then return redis.call('DEL', keys[1]) end
  return 0
end)

-- Removes from the structure k the members (user keys) whose refs:{<user>}
-- does not list k: their link expired with the user. rem: SREM or ZREM.
local function drop_unlisted(k, members, rem)
  local n = 0
  for _, m in ipairs(members) do
    if redis.call('SISMEMBER', 'refs:{' .. m .. '}', k) == 0 then n = n + redis.call(rem, k, m) end
  end
  return n
end

-- The sweep of followers whose refs:{} expired (one Redis: refs:{} keys of
-- other slots are read). KEYS: sub:<code> sets of one SCAN page. Returns
-- the number of user keys removed.
-- (ref_sweep)
redis.register_function('ref_sweep_sets', function(keys, args)
  local n = 0
  for _, k in ipairs(keys) do
    if redis.call('TYPE', k).ok == 'set' then n = n + drop_unlisted(k, redis.call('SMEMBERS', k), 'SREM') end
  end
  return n
end)

-- Likewise for a zset of user keys. KEYS[1]: {stats}:comments. ARGV: the
-- members of one ZSCAN page. Returns the number removed.
-- (ref_sweep)
redis.register_function('ref_sweep_zset', function(keys, args)
  return drop_unlisted(keys[1], args, 'ZREM')
end)

-- The comment and the note in refs (same slot: the user's hash tag).
-- KEYS: fb:{user}, refs:{user}. ARGV: JSON line, last index kept, zset key.
-- (feedback)
redis.register_function('feedback_comment', function(keys, args)
  redis.call('LPUSH', keys[1], args[1]) redis.call('LTRIM', keys[1], 0, args[2])
  return redis.call('SADD', keys[2], args[3])
end)

-- Reads the user's open ticket, and with ARGV[1] = "close" ends it if it is
-- ARGV[2]. KEYS: ho:{user}. Returns {open ticket or false, closed}.
-- (handoff)
redis.register_function('handoff_ticket', function(keys, args)
  local t = redis.call('HGET', keys[1], 'ticket') local closed = 0
  if args[1] == 'close' and t == args[2] then redis.call('DEL', keys[1]) closed = 1 end
  return {t, closed}
end)

-- KEYS: ho:{user}, refs:{user}. ARGV: ticket, now, ticket key.
-- (handoff)
redis.register_function('handoff_open', function(keys, args)
  redis.call('HSET', keys[1], 'ticket', args[1], 'opened_at', args[2])
  return redis.call('SADD', keys[2], args[3])
end)

-- KEYS: dossier:<code>, sub:<code>. ARGV: user key.
-- (lookup)
redis.register_function('lookup_read', function(keys, args)
  return {redis.call('HGETALL', keys[1]), redis.call('SISMEMBER', keys[2], args[1])}
end)

-- ===== The dossier guard (lookup_guard.h) =====

local function num(x) return tonumber(x or '0') or 0 end

-- Seconds the pause recorded in key still runs (0: none).
local function guard_wait(key, now)
  local u = num(redis.call('HGET', key, 'until'))
  if u > now then return u - now end
  return 0
end

-- A wrong try: every fails-th one pauses for pause, doubling, at most
-- maxp; the count is forgotten memory seconds after the last one.
local function guard_wrong(key, now, fails, pause, maxp, memory)
  local h = redis.call('HMGET', key, 'n', 't')
  local n = num(h[1])
  if now - num(h[2]) > memory then n = 0 end
  n = n + 1
  redis.call('HSET', key, 'n', n, 't', now)
  if n % fails == 0 then
    local p = pause * 2 ^ (n / fails - 1)
    if p > maxp then p = maxp end
    redis.call('HSET', key, 'until', now + p)
  end
  redis.call('EXPIRE', key, memory + maxp)
end

-- Everyone's 4-digit tries of this window (key hs:g:all): the seconds until
-- it ends when fails were reached, else 0.
local function guard_global_wait(key, now, fails, window)
  local g = redis.call('HMGET', key, 'w', 'n')
  local gw, gn = num(g[1]), num(g[2])
  if now - gw >= window then
    gw, gn = now, 0
    redis.call('HSET', key, 'w', now, 'n', 0)
    redis.call('EXPIRE', key, 2 * window)
  end
  if gn >= fails then return gw + window - now end
  return 0
end

-- Digits only; +84 / 84 before a 9-digit number is the leading 0.
local function guard_digits(s)
  if not s then return nil end
  local d = string.gsub(s, '%D', '')
  if #d == 11 and string.sub(d, 1, 2) == '84' then d = '0' .. string.sub(d, 3) end
  return d
end

-- Whether the record's phone or id_number (fields, from HMGET) ends in the 4
-- digits (weak) or is the whole number given; test(d) compares.
local function guard_proves(fields, weak, test)
  for i = 1, 2 do
    local d = guard_digits(fields[i])
    if d and ((weak and #d >= 4 and test(string.sub(d, -4))) or
              (not weak and #d >= 9 and test(d))) then  -- 9: LOOKUP_PROOF_FULL_MIN
      return true
    end
  end
  return false
end

-- The user may see the dossier: access log (newest 100 kept: LOOKUP_ACCESS_KEEP,
-- none older than ttl) listed in the user's refs, both kept ttl.
local function guard_grant(access, refs, user, now, ttl)
  redis.call('ZADD', access, now, user)
  redis.call('ZREMRANGEBYRANK', access, 0, -100 - 1)
  redis.call('ZREMRANGEBYSCORE', access, '-inf', now - ttl)
  redis.call('EXPIRE', access, ttl)
  redis.call('SADD', refs, access)
  redis.call('EXPIRE', refs, ttl)
end

-- A pending follow of a dossier not stored yet: hs:p:<code> (one field per
-- user: "<w|f>:<sha1 of key and proof>:<source hash>:<acct|addr>:<until>"),
-- listed in the user's refs and in the source's budget hs:g:p:<source hash>
-- (a sorted set of hs:p: keys by end), at most max of them at once.
-- Returns false when the budget is used up.
local function pending_add(pkey, budget, source, how, refs, user, weak, given, now, max, ttl, refs_ttl)
  redis.call('ZREMRANGEBYSCORE', budget, '-inf', now)
  if not redis.call('ZSCORE', budget, pkey) and redis.call('ZCARD', budget) >= max then
    return false
  end
  redis.call('ZADD', budget, now + ttl, pkey)
  redis.call('EXPIRE', budget, ttl)
  local hash = redis.sha1hex(pkey .. ':' .. given)
  redis.call('HSET', pkey, user, table.concat({weak and 'w' or 'f', hash, source, how, now + ttl}, ':'))
  redis.call('EXPIRE', pkey, ttl)
  redis.call('SADD', refs, pkey)
  redis.call('EXPIRE', refs, refs_ttl)
  return true
end

-- KEYS: 1 dossier:<code>, 2 hs:g:d:<code>, 3 hs:g:s:<source>, 4 hs:g:new:<channel>,
--       5 hs:g:all, 6 dossier:access:<code>, 7 refs:{<user>}, 8 sub:<code>,
--       9 hs:p:<code>, 10 hs:g:p:<source>.
-- ARGV: 1 'last4' | 'full', 2 digits, 3 now, 4 user key, 5 'acct' | 'addr',
--       6-9 dossier fails, pause, pause max, memory,
--       10-13 source fails, pause, pause max, memory,
--       14 new-account age, 15 new-account fails, 16 global fails, 17 global window,
--       18 access log ttl, 19 pending follows the source may hold ('0': this
--       try may not wait for the dossier), 20 how long one waits.
-- → {'ok', HGETALL, subscribed} | {'wrong'} | {'pending'} (the dossier is not
--   stored: the follow waits, nothing counted) | {'limited', seconds,
--   'source' | 'dossier' | 'new' | 'global'}.
-- (lookup_guard)
redis.register_function('lookup_guard', function(keys, args)
  local now = tonumber(args[3])
  local weak = args[1] == 'last4'
  local w = guard_wait(keys[3], now)
  if w > 0 then return {'limited', w, 'source'} end
  -- An account is new until a day after its first wrong try: aging one
  -- costs a wrong try from the shared budget.
  local new = args[5] == 'acct' and
    now - num(redis.call('HGET', keys[3], 'first') or now) < num(args[14])
  if new then
    w = guard_wait(keys[4], now)
    if w > 0 then return {'limited', w, 'new'} end
  end
  if weak then
    w = guard_global_wait(keys[5], now, num(args[16]), num(args[17]))
    if w > 0 then return {'limited', w, 'global'} end
    w = guard_wait(keys[2], now)
    if w > 0 then return {'limited', w, 'dossier'} end
  end
  local given = guard_digits(args[2])
  if args[19] ~= '0' and redis.call('EXISTS', keys[1]) == 0 and
     pending_add(keys[9], keys[10], string.sub(keys[3], 8), args[5], keys[7], args[4], weak, given,
                 now, num(args[19]), num(args[20]), args[18]) then
    return {'pending'}
  end
  local f = redis.call('HMGET', keys[1], 'phone', 'id_number')
  if guard_proves(f, weak, function(d) return d == given end) then
    guard_grant(keys[6], keys[7], args[4], now, num(args[18]))
    return {'ok', redis.call('HGETALL', keys[1]), redis.call('SISMEMBER', keys[8], args[4])}
  end
  redis.call('HSETNX', keys[3], 'first', now)
  guard_wrong(keys[3], now, num(args[10]), num(args[11]), num(args[12]), num(args[13]))
  if new then guard_wrong(keys[4], now, num(args[15]), num(args[11]), num(args[12]), num(args[13])) end
  if weak then
    guard_wrong(keys[2], now, num(args[6]), num(args[7]), num(args[8]), num(args[9]))
    redis.call('HINCRBY', keys[5], 'n', 1)
  end
  return {'wrong'}
end)

-- The follows waiting for a dossier that has just been stored: each proof
-- is checked against the record as a try made now would be. A whole number
-- first, then 4 digits oldest first while the dossier's 4-digit check and
-- everyone's hourly budget allow; a match follows the dossier (sub:<code>,
-- access log, refs), a mismatch counts as a wrong try of its source (and of
-- the dossier and everyone for 4 digits) and is dropped without a word, as
-- is a follow past its end. Sources are never new accounts here: the
-- pending budget already bounded them. Keys of sources and users are
-- computed (one Redis, not Cluster).
-- KEYS: 1 dossier:<code>, 2 sub:<code>, 3 hs:p:<code>, 4 hs:g:d:<code>,
--       5 hs:g:all, 6 dossier:access:<code>.
-- ARGV: 1 now, 2-5 dossier fails, pause, pause max, memory,
--       6 account fails, 7 address fails, 8-10 source pause, pause max, memory,
--       11 global fails, 12 global window, 13 access log ttl.
local function pending_settle(keys, args)
  local now = tonumber(args[1])
  local all = redis.call('HGETALL', keys[3])
  redis.call('DEL', keys[3])
  local list = {}
  for i = 1, #all, 2 do
    local kind, hash, src, how, till = string.match(all[i + 1], '^([wf]):(%x+):(%x+):(%a+):(%d+)$')
    if kind then
      list[#list + 1] = {user = all[i], weak = kind == 'w', hash = hash, src = src, how = how,
                         till = tonumber(till)}
    end
  end
  table.sort(list, function(a, b)
    if a.weak ~= b.weak then return not a.weak end
    return a.till < b.till
  end)
  local f = redis.call('HMGET', keys[1], 'phone', 'id_number')
  for _, e in ipairs(list) do
    local refs = 'refs:{' .. e.user .. '}'
    redis.call('ZREM', 'hs:g:p:' .. e.src, keys[3])
    redis.call('SREM', refs, keys[3])
    local allowed = e.till > now
    if allowed and e.weak then
      allowed = guard_global_wait(keys[5], now, num(args[11]), num(args[12])) == 0 and
                guard_wait(keys[4], now) == 0
    end
    if allowed then
      local match = function(d) return redis.sha1hex(keys[3] .. ':' .. d) == e.hash end
      if guard_proves(f, e.weak, match) then
        redis.call('SADD', keys[2], e.user)
        redis.call('SADD', refs, keys[2])
        guard_grant(keys[6], refs, e.user, now, num(args[13]))
      else
        local fails = e.how == 'addr' and args[7] or args[6]
        guard_wrong('hs:g:s:' .. e.src, now, num(fails), num(args[8]), num(args[9]), num(args[10]))
        if e.weak then
          guard_wrong(keys[4], now, num(args[2]), num(args[3]), num(args[4]), num(args[5]))
          redis.call('HINCRBY', keys[5], 'n', 1)
        end
      end
    end
  end
end

-- A status change (or the arrival of a dossier someone waits for) to
-- notify: settles the pending follows first (pending_settle; KEYS and ARGV
-- as there), then → {HGETALL dossier, SMEMBERS sub:<code>}.
-- (notify)
redis.register_function('dossier_settle_read', function(keys, args)
  if redis.call('EXISTS', keys[3]) == 1 and redis.call('EXISTS', keys[1]) == 1 then
    pending_settle(keys, args)
  end
  return {redis.call('HGETALL', keys[1]), redis.call('SMEMBERS', keys[2])}
end)

-- KEYS[1] dossier:<code>, KEYS[2] sub:<code> → {HGETALL, SMEMBERS}.
-- (notify)
redis.register_function('dossier_with_subscribers', function(keys, args)
  return {redis.call('HGETALL', keys[1]), redis.call('SMEMBERS', keys[2])}
end)

-- KEYS[1] pay:<ref>, KEYS[2] refs:{<user>}.
-- ARGV amount, code, created, expires, user key, ttl.
-- (payment)
redis.register_function('payment_create', function(keys, args)
  redis.call('HSET', keys[1], 'amount', args[1], 'code', args[2], 'status', 'pending',
    'created', args[3], 'expires', args[4], args[5], 'payer')
  redis.call('EXPIRE', keys[1], args[6])
  redis.call('SADD', keys[2], keys[1])
  return 1
end)

-- KEYS[1] pay:<ref>, KEYS[2] pay:unapplied (a success not applied to its
-- dossier is indexed there for staff, scored by now; entries older than the
-- record's life are dropped). ARGV vnp_Amount, vnp_ResponseCode,
-- vnp_TransactionStatus, vnp_TransactionNo, vnp_BankCode, now, vnp_PayDate
-- (unix), seconds a paid record (it names the payer) is kept: DVCBOT_USER_TTL.
-- → {'01'} | {'04'} | {'02'} | {'00', outcome, code, payer, amount, fee now}.
-- The dossier key comes from the record, so this needs a single Redis.
-- (payment_ipn)
redis.register_function('payment_ipn_record', function(keys, args)
  local p = redis.call('HMGET', keys[1], 'amount', 'code', 'status', 'expires')
  if not p[1] then return {'01'} end
  if args[1] ~= p[1] .. '00' then return {'04'} end
  if p[3] == 'paid' then return {'02'} end
  local success = args[2] == '00' and args[3] == '00'
  if not success and p[3] == 'failed' then return {'02'} end
  local payer = ''
  local all = redis.call('HGETALL', keys[1])
  for i = 1, #all, 2 do if all[i + 1] == 'payer' then payer = all[i] end end
  if not success then
    redis.call('HSET', keys[1], 'status', 'failed', 'response_code', args[2],
      'failed_at', args[6])
    return {'00', 'failed', p[2], payer, p[1], ''}
  end
  local dk = 'dossier:' .. p[2]
  local d = redis.call('HMGET', dk, 'fee', 'paid', 'status')
  local fee = tonumber(d[1] or '0')
  local outcome = 'paid'
  if not d[3] then outcome = 'no_dossier'
  elseif p[4] and tonumber(args[7]) > tonumber(p[4]) + 300 then  -- 300: PAYMENT_PAY_GRACE_S
    outcome = 'expired'
  elseif d[2] == '1' then outcome = 'already_paid'
  elseif d[3] == 'tu_choi' or fee <= 0 then outcome = 'not_due'
  elseif fee ~= tonumber(p[1]) then outcome = 'fee_changed' end
  redis.call('HSET', keys[1], 'status', 'paid', 'paid_at', args[6],
    'transaction_no', args[4], 'bank_code', args[5],
    'applied', outcome == 'paid' and '1' or '0')
  if outcome ~= 'paid' then
    redis.call('HSET', keys[1], 'reason', outcome)
    redis.call('ZADD', keys[2], args[6], string.sub(keys[1], 5))
  end
  redis.call('ZREMRANGEBYSCORE', keys[2], '-inf', tonumber(args[6]) - tonumber(args[8]))
  redis.call('EXPIRE', keys[1], args[8])
  if outcome == 'paid' then
    redis.call('HSET', dk, 'paid', '1', 'paid_online', '1', 'paid_via', 'vnpay',
      'paid_amount', p[1], 'updated_at', args[6])
  end
  return {'00', outcome, p[2], payer, p[1], d[1] or ''}
end)

-- The payments of a page of pay:unapplied for the console, with their
-- dossier's commune and procedure (dossier:<code> is read by name: one
-- Redis). KEYS: pay:<ref> records. Returns, per record still kept and not
-- applied, {ref, amount, code, reason, paid_at, transaction_no, bank_code,
-- commune, procedure}.
-- (console_payments)
redis.register_function('console_payments_unapplied', function(keys, args)
  local out = {}
  for _, k in ipairs(keys) do
    local p = redis.call('HMGET', k, 'amount', 'code', 'reason', 'paid_at', 'transaction_no',
      'bank_code', 'applied')
    if p[1] and p[2] and p[7] == '0' then
      local d = redis.call('HMGET', 'dossier:' .. p[2], 'commune', 'procedure')
      out[#out + 1] = {string.sub(k, 5), p[1], p[2], p[3] or '', p[4] or '0', p[5] or '',
        p[6] or '', d[1] or '', d[2] or ''}
    end
  end
  return out
end)

-- Staff settle by hand a payment the gateway confirmed but that was not
-- applied: 'refunded' (the money went back to the payer) or 'applied' (the
-- payment is accepted for its dossier, which is then marked paid as the IPN
-- would have). KEYS: pay:<ref>, pay:unapplied. ARGV: how, now, who (the
-- token's fingerprint). The dossier is read by name (one Redis). Returns
-- {1, code, amount, payer ('' when unknown)} when done, {0} when there is
-- no such unapplied payment (gone, or settled already), {-1} for 'applied'
-- when the dossier is gone or already paid.
-- (console_payments)
redis.register_function('payment_settle_by_hand', function(keys, args)
  local p = redis.call('HMGET', keys[1], 'status', 'applied', 'code', 'amount')
  if p[1] ~= 'paid' or p[2] ~= '0' then return {0} end
  if args[1] == 'applied' then
    local dk = 'dossier:' .. p[3]
    local d = redis.call('HMGET', dk, 'status', 'paid')
    if not d[1] or d[2] == '1' then return {-1} end
    redis.call('HSET', dk, 'paid', '1', 'paid_online', '1', 'paid_via', 'vnpay',
      'paid_amount', p[4], 'updated_at', args[2])
  end
  redis.call('HSET', keys[1], 'applied', args[1], 'settled_at', args[2], 'settled_by', args[3])
  redis.call('ZREM', keys[2], string.sub(keys[1], 5))
  local payer = ''
  local all = redis.call('HGETALL', keys[1])
  for i = 1, #all, 2 do if all[i + 1] == 'payer' then payer = all[i] end end
  return {1, p[3], p[4], payer}
end)

-- Takes the due codes: re-scores each to the lease's end, returns them.
-- KEYS[1] remind:due. ARGV: now, batch size, lease end.
-- (reminder)
redis.register_function('reminder_take', function(keys, args)
  local due = redis.call('ZRANGEBYSCORE', keys[1], '-inf', args[1], 'LIMIT', 0, tonumber(args[2]))
  for i = 1, #due do redis.call('ZADD', keys[1], args[3], due[i]) end
  return due
end)

-- Stores a plan if the code still carries our lease and the dossier the
-- status (and status_at) it was planned for. Returns 1, or 0 when something
-- changed meanwhile (nothing is written then).
-- KEYS: dossier:<code>, remind:due. ARGV: code, lease end, status seen,
-- status_at seen, cycle, count, last, late_for ("" = keep), next ("" = remove).
-- (reminder)
redis.register_function('reminder_commit', function(keys, args)
  local score = redis.call('ZSCORE', keys[2], args[1])
  if not score or tonumber(score) ~= tonumber(args[2]) then return 0 end
  local cur = redis.call('HMGET', keys[1], 'status', 'status_at')
  if (cur[1] or '') ~= args[3] or (cur[2] or '') ~= args[4] then return 0 end
  if cur[1] then
    redis.call('HSET', keys[1], 'status_at', args[5], 'remind_at', args[5],
               'remind_n', args[6], 'remind_last', args[7])
    if args[8] ~= '' then redis.call('HSET', keys[1], 'late_for', args[8]) end
  end
  if args[9] == '' then redis.call('ZREM', keys[2], args[1])
  else redis.call('ZADD', keys[2], args[9], args[1]) end
  return 1
end)

-- A user started a guided flow.
-- KEYS: {stats}:active, {stats}:active_proc, {stats}:flows.
-- ARGV: user key, procedure, now. Returns the procedure's started count.
-- (stats)
redis.register_function('stats_flow_start', function(keys, args)
  redis.call('ZADD', keys[1], args[3], args[1])
  redis.call('HSET', keys[2], args[1], args[2])
  return redis.call('HINCRBY', keys[3], args[2] .. '|started', 1)
end)

-- A user finished a guided flow: out of the active set, counted, its
-- duration kept (the last ARGV[6]), the commune's name kept.
-- KEYS: {stats}:active, {stats}:active_proc, {stats}:flows, {stats}:dur:<proc>,
-- {stats}:communes, {stats}:commune_names.
-- ARGV: user key, procedure, seconds, commune key, commune name, durations kept.
-- (stats)
redis.register_function('stats_flow_finish', function(keys, args)
  redis.call('ZREM', keys[1], args[1]) redis.call('HDEL', keys[2], args[1])
  redis.call('HINCRBY', keys[3], args[2] .. '|finished', 1)
  redis.call('LPUSH', keys[4], args[3]) redis.call('LTRIM', keys[4], 0, args[6] - 1)
  redis.call('HINCRBY', keys[5], args[4] .. '|finished', 1)
  return redis.call('HSETNX', keys[6], args[4], args[5])
end)

-- A flow left (or idle too long): counted abandoned once, by whoever
-- removes the user from the active set. Returns 1 if that was us.
-- KEYS: {stats}:active, {stats}:active_proc, {stats}:flows. ARGV: user key, procedure.
-- (stats)
redis.register_function('stats_flow_abandon', function(keys, args)
  if redis.call('ZREM', keys[1], args[1]) == 0 then return 0 end
  redis.call('HDEL', keys[2], args[1])
  redis.call('HINCRBY', keys[3], args[2] .. '|abandoned', 1) return 1
end)

-- A flow counted abandoned at a cancel, taken back ("Tiếp tục hồ sơ vừa
-- hủy"): in progress again, and no longer abandoned, unless the user is in
-- the active set (the cancel's count did not reach Redis, nothing to take
-- back). Returns 1 when the abandoned count went down.
-- KEYS: {stats}:active, {stats}:active_proc, {stats}:flows.
-- ARGV: user key, procedure, now.
-- (stats)
redis.register_function('stats_flow_undo', function(keys, args)
  if redis.call('ZSCORE', keys[1], args[1]) then return 0 end
  redis.call('ZADD', keys[1], args[3], args[1])
  redis.call('HSET', keys[2], args[1], args[2])
  local field = args[2] .. '|abandoned'
  if tonumber(redis.call('HGET', keys[3], field) or '0') < 1 then return 0 end
  redis.call('HINCRBY', keys[3], field, -1) return 1
end)

-- Flows idle since ARGV[1] (unix s) are abandoned, up to 200 a call.
-- KEYS: {stats}:active, {stats}:active_proc, {stats}:flows. ARGV: cutoff.
-- Returns the procedures counted.
-- (stats)
redis.register_function('stats_flow_sweep', function(keys, args)
  local out = {}
  for _, u in ipairs(redis.call('ZRANGEBYSCORE', keys[1], '-inf', args[1], 'LIMIT', 0, 200)) do
    redis.call('ZREM', keys[1], u)
    local p = redis.call('HGET', keys[2], u)
    redis.call('HDEL', keys[2], u)
    if p then redis.call('HINCRBY', keys[3], p .. '|abandoned', 1) out[#out + 1] = p end
  end return out
end)

-- A rating: per procedure (count, sum, per star) and per commune.
-- KEYS: {stats}:ratings, {stats}:communes, {stats}:commune_names.
-- ARGV: procedure, commune key, stars, commune name.
-- (stats)
redis.register_function('stats_rating', function(keys, args)
  redis.call('HINCRBY', keys[1], args[1] .. '|n', 1)
  redis.call('HINCRBY', keys[1], args[1] .. '|sum', args[3])
  redis.call('HINCRBY', keys[1], args[1] .. '|' .. args[3], 1)
  redis.call('HINCRBY', keys[2], args[2] .. '|ratings', 1)
  redis.call('HINCRBY', keys[2], args[2] .. '|rating_sum', args[3])
  return redis.call('HSETNX', keys[3], args[2], args[4])
end)

-- A flow a volunteer ran for a resident.
-- KEYS: {stats}:assists_volunteer, {stats}:communes, {stats}:commune_names,
-- {stats}:misc, {stats}:flows. ARGV: volunteer user key, commune key, commune
-- name, procedure.
-- (stats)
redis.register_function('stats_assist', function(keys, args)
  if keys[5] then redis.call('HINCRBY', keys[5], args[4] .. '|assisted', 1) end
  redis.call('HINCRBY', keys[1], args[1], 1)
  redis.call('HINCRBY', keys[2], args[2] .. '|assists', 1)
  redis.call('HINCRBY', keys[4], 'assists', 1)
  return redis.call('HSETNX', keys[3], args[2], args[3])
end)

-- Everything /admin/stats shows, in one round trip. KEYS: the 7 hashes,
-- the active set, then per procedure its flow durations and its dossier-code times.
-- (stats)
redis.register_function('stats_gather', function(keys, args)
  local out = {}
  for i = 1, 7 do out[i] = redis.call('HGETALL', keys[i]) end
  out[8] = redis.call('ZCARD', keys[8])
  for i = 9, #keys do out[i] = redis.call('LRANGE', keys[i], 0, -1) end
  return out
end)

-- KEYS: the day hash. ARGV: field, seconds to keep.
-- (stats_day)
redis.register_function('stats_day_incr', function(keys, args)
  redis.call('HINCRBY', keys[1], args[1], 1) return redis.call('EXPIRE', keys[1], args[2])
end)

-- KEYS: the day hash. ARGV: seconds to keep, then pairs of field and how
-- much to add (counts gathered in memory over a loop turn).
-- (stats_day)
redis.register_function('stats_day_add', function(keys, args)
  for i = 2, #args - 1, 2 do redis.call('HINCRBY', keys[1], args[i], args[i + 1]) end
  return redis.call('EXPIRE', keys[1], args[1])
end)

-- KEYS: the day hash, the day list. ARGV: field, entry, seconds to keep, entries kept.
-- (stats_day)
redis.register_function('stats_day_code', function(keys, args)
  redis.call('HINCRBY', keys[1], args[1], 1) redis.call('EXPIRE', keys[1], args[3])
  redis.call('LPUSH', keys[2], args[2]) redis.call('LTRIM', keys[2], 0, args[4] - 1)
  return redis.call('EXPIRE', keys[2], args[3])
end)

-- KEYS: volunteers, refs:{user}. ARGV: user, "1" to add / "0" to remove.
-- (volunteer)
redis.register_function('volunteer_change', function(keys, args)
  if args[2] == '1' then redis.call('SADD', keys[2], keys[1])
  return {redis.call('SADD', keys[1], args[1]), 1} end
  return {redis.call('SREM', keys[1], args[1]), 0}
end)

-- Takes what waits in a web chat user's inbox (read and cleared at once,
-- so a message is shown once). KEYS: wc:inbox:{wc:<id>}. Returns {messages}.
-- (webchat)
redis.register_function('webchat_inbox_take', function(keys, args)
  local v = redis.call('LRANGE', keys[1], 0, -1) redis.call('DEL', keys[1]) return {v}
end)

-- Puts one reply (JSON) in a web chat user's inbox, keeping the newest.
-- KEYS: wc:inbox:{wc:<id>}. ARGV: reply JSON, seconds to keep, -(messages kept).
-- (webchat)
redis.register_function('webchat_inbox_push', function(keys, args)
  redis.call('RPUSH', keys[1], args[1]) redis.call('LTRIM', keys[1], args[3], -1)
  redis.call('EXPIRE', keys[1], args[2]) return 1
end)

-- KEYS: the stream, the user record. ARGV: max entries, TTL (s), items...
-- Returns the new ids, or an empty array when the user has no record.
-- (webchat_history)
redis.register_function('webchat_history_add', function(keys, args)
  if redis.call('EXISTS', keys[2]) == 0 then return {} end
  local ids = {}
  for i = 3, #args do
  ids[#ids + 1] = redis.call('XADD', keys[1], 'MAXLEN', args[1], '*', 'm', args[i]) end
  redis.call('EXPIRE', keys[1], args[2])
  return ids
end)

-- A user interaction: window start, last msg_id, counter reset, follow
-- again. Out-of-order deliveries never move the window back, and a
-- redelivered message does not reset the counter.
-- KEYS: u:{zl:<id>}. ARGV: event time (unix s), msg_id or "".
-- (zalo)
redis.register_function('zalo_interaction', function(keys, args)
  local last = tonumber(redis.call('HGET', keys[1], 'zl_in') or '0') or 0
  local again = args[2] ~= '' and redis.call('HGET', keys[1], 'zl_msg') == args[2]
  if tonumber(args[1]) >= last and not again then
  redis.call('HSET', keys[1], 'zl_in', args[1], 'zl_out', '0')
  if args[2] ~= '' then redis.call('HSET', keys[1], 'zl_msg', args[2]) end end
  redis.call('HDEL', keys[1], 'unfollowed') return 1
end)

-- Unfollow: keep only the mark that stops sending.
-- KEYS: s:{zl:<id>}, u:{zl:<id>}. ARGV: now (unix s).
-- (zalo)
redis.register_function('zalo_unfollow', function(keys, args)
  redis.call('DEL', keys[1])
  redis.call('HDEL', keys[2], 'zl_in', 'zl_out', 'zl_msg')
  redis.call('HSET', keys[2], 'unfollowed', args[1]) return 1
end)

-- A message went out: one more against the window (not for a user who
-- unfollowed meanwhile, nor for one whose record is gone, e.g. erased by the
-- message just sent: nothing is kept for them). KEYS: u:{zl:<id>}.
-- (zalo)
redis.register_function('zalo_sent', function(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 and
  redis.call('HEXISTS', keys[1], 'unfollowed') == 0 then
  redis.call('HINCRBY', keys[1], 'zl_out', 1) end return 1
end)

-- Zalo refused a message for this user: why, in their record, if they still
-- have one. KEYS: u:{zl:<id>}. ARGV: reason, code, now (unix s).
-- (zalo)
redis.register_function('zalo_refusal', function(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 then
  redis.call('HSET', keys[1], 'last_error', args[1], 'last_error_code',
  args[2], 'last_error_at', args[3]) end return 1
end)

-- Seeds the hash from the environment when it is empty or the environment
-- holds a pair other than the one seeded last, then returns the pair.
-- KEYS: token hash. ARGV: access, refresh, seed (hash of the two), now.
-- (zalo_token)
redis.register_function('zalo_token_seed', function(keys, args)
  if (args[1] ~= '' or args[2] ~= '') and redis.call('HGET', keys[1], 'env_seed') ~= args[3] then
  redis.call('HSET', keys[1], 'access', args[1], 'refresh', args[2], 'expires_at', '0',
  'updated_at', args[4], 'env_seed', args[3]) end
  return redis.call('HMGET', keys[1], 'access', 'refresh', 'expires_at')
end)

-- Deletes the lock only while it is still ours. KEYS: lock. ARGV: owner.
-- (zalo_token)
redis.register_function('zalo_token_unlock', function(keys, args)
  if redis.call('GET', keys[1]) == args[1] then return redis.call('DEL', keys[1]) end return 0
end)

-- KEYS: per user fb:{u}, fbh:{u}, u:{u}, p:{u}. Returns per user
-- {lines, handled (HGETALL), record commune, profile consent, profile commune}.
-- (console_feedback)
redis.register_function('console_feedback_read', function(keys, args)
  local out = {}
  for i = 1, #keys, 4 do
    local p = redis.call('HMGET', keys[i + 3], 'consent', 'commune')
    out[#out + 1] = {redis.call('LRANGE', keys[i], 0, -1), redis.call('HGETALL', keys[i + 1]),
      redis.call('HGET', keys[i + 2], 'commune'), p[1], p[2]}
  end return out
end)

-- KEYS: ticket:<n> keys of one SCAN page. For each open one:
-- {n, user, opened_at, channel, record commune, consent, profile commune}.
-- (console_handoffs)
redis.register_function('console_handoff_tickets', function(keys, args)
  local out = {}
  for _, k in ipairs(keys) do
    local n = string.sub(k, 8)
    for _, u in ipairs(redis.call('SMEMBERS', k)) do
      local ho = redis.call('HMGET', 'ho:{' .. u .. '}', 'ticket', 'opened_at')
      if ho[1] == n then
        local rec = redis.call('HMGET', 'u:{' .. u .. '}', 'ch', 'commune')
        local p = redis.call('HMGET', 'p:{' .. u .. '}', 'consent', 'commune')
        out[#out + 1] = {n, u, ho[2] or '0', rec[1] or '', rec[2] or false, p[1] or false,
          p[2] or false}
      end
    end
  end return out
end)

-- KEYS: the assists hash, then vol:{u} per user. ARGV: the users.
-- Returns per user {commune, added_at, households, flows}.
-- (console_volunteers)
redis.register_function('console_volunteer_list', function(keys, args)
  local out = {}
  for i = 2, #keys do
    local v = redis.call('HMGET', keys[i], 'commune', 'added_at', 'households')
    out[#out + 1] = {v[1] or '', v[2] or '0', v[3] or '0',
      redis.call('HGET', keys[1], args[i - 1]) or '0'}
  end return out
end)

-- ===== Hot path: library functions as upvalues =====
-- A function of a library reads a global (redis, string, tonumber...)
-- through the globals table's metatable (Redis 7 swaps its __index between
-- loading and running), two hash lookups and more per use; an upvalue is
-- one load. The globals are not there while the library loads, so the
-- functions of the turn's path (dialog_load*, outbox_commit*,
-- outbox_settle) bind them on their first call.
local rcall, rpcall, sformat, ssub, sfind, mabs, tonum, lpcall, ltype, tostr, lunpack
local OWN_COUNT, COUNT_TEXT = {}, {}   -- see outbox_commit (library 20)
local function bind()
  rcall, rpcall, sformat, ssub, sfind = redis.call, redis.pcall, string.format, string.sub, string.find
  mabs, tonum, lpcall, ltype, tostr, lunpack = math.abs, tonumber, pcall, type, tostring, unpack
  for i = 0, 16 do
    OWN_COUNT[sformat('%d', 7 + 2 * i)] = 7 + 2 * i
    COUNT_TEXT[i], COUNT_TEXT[-i] = sformat('%d', i), sformat('%d', -i)
  end
end

-- Seqs (od, oq, a settle's seq) between text and number without tonumber
-- (Lua's tonumber converts twice, each a strtod: ~900 instructions) or
-- string.format (~800): the conversions made lately are kept, by text (a
-- Lua string is hashed once, when made: a look-up is a few dozen
-- instructions) and by number, at most NUMS_KEPT each, then the table
-- starts again. The seqs of a user grow, but the users' overlap (library 24).
local NUMS_KEPT = 4096
local num_of, num_of_n, text_of, text_of_n = {}, 0, {}, 0
local function seq_number(s)   -- tonumber(s)
  local n = num_of[s]
  if n then return n end
  n = tonum(s)
  if n then
    if num_of_n >= NUMS_KEPT then num_of, num_of_n = {}, 0 end
    num_of[s], num_of_n = n, num_of_n + 1 end
  return n
end
local function seq_text(n)   -- string.format('%d', n)
  local t = text_of[n]
  if t then return t end
  t = sformat('%d', n)
  if n == n then   -- not NaN (no table key)
    if text_of_n >= NUMS_KEPT then text_of, text_of_n = {}, 0 end
    text_of[n], text_of_n = t, text_of_n + 1 end
  return t
end

-- ===== Event marks (dialog.h): a redelivered event is recognised =====
-- An event's mark is a member of the user's index dd:{<user>} (a sorted
-- set): the event id, scored -(4 x the unix time it was marked + its state)
-- (whole numbers: a small sorted set keeps them as integers, fractions as
-- text parsed back on every insert). Negative, so that the newest mark
-- comes first: a small sorted set is one list that ZADD walks from its
-- head to the place of the score, so a mark scored 4 x time + state (the
-- scheme of before, still read: a positive score from MARKS_NEW) went
-- after every other, a walk of the whole index twice per event. "In hand"
-- (a stored turn is being handled) holds for in-hand TTL seconds after the
-- mark, then the event is handled again (its turn died before its commit);
-- "done" holds as long as the index keeps it (the dedupe TTL). A mark
-- removed ("forgotten") is no mark. A score from 0 to under MARKS_NEW is a
-- mark made before both schemes (the unix time), whose state is in its own
-- key dd:{<user>}:<id> ('p' in hand, '1' done; gone: handle again).
-- Scores come as text from C (outbox_store.h, OUTBOX_MARK_SCORE): a Lua
-- number passed to redis.call is printed with snprintf("%.17g"), and text
-- read back parsed with strtod, each some thousands of instructions, so only
-- a redelivery and a trim compute here. A caller of before passes positive
-- scores: they are read the same (the absolute value counts).
local MARK_DONE, MARKS_NEW = 1, 4e9

-- The state of a marked event: false (handle it), 'p' (in hand) or '1'
-- (done). live: the score of the oldest in-hand mark still live.
local function mark_state(score, old_key, live, idx, id)
  local s = tonum(score)
  if s >= 0 and s < MARKS_NEW then return rcall('GET', old_key or idx .. ':' .. id) end
  s = mabs(s)
  if s % 4 == MARK_DONE then return '1' end
  return s >= mabs(tonum(live)) and 'p'
end

-- Marks the event in the index with the score given unless a live mark is
-- there; returns what mark_state says of the one found, false for a new
-- event. (old_key nil: idx:id, made only when read.)
local function mark_event(idx, old_key, id, score, live)
  if rcall('ZADD', idx, 'NX', score, id) == 1 then return false end
  local found = mark_state(rcall('ZSCORE', idx, id), old_key, live, idx, id)
  if not found then rcall('ZADD', idx, 'XX', score, id) end
  return found
end

-- Drops the marks made up to the unix time `old`, of every scheme: from
-- -(4 x old + 3) to old (this one's and those of before both), and from
-- MARKS_NEW to 4 x old + 3.
local function marks_trim(idx, old)
  local last = 4 * tonum(old) + 3
  rcall('ZREMRANGEBYSCORE', idx, sformat('%d', -last), old)
  rcall('ZREMRANGEBYSCORE', idx, '4000000000', sformat('%d', last))   -- MARKS_NEW as text
end

-- ===== A user's TTLs (dialog.h, DIALOG_TTL_RENEW_S) =====
-- The keys that live so long after the user's last message (the record
-- u:{<user>}, refs:{<user>}, the index dd:{<user>}, the session s:{<user>})
-- get no EXPIRE on every message: a load renews them when the record's seen
-- is `renew` seconds old or more (or missing: a new or expired record), each
-- to its TTL + renew, and writes ch, chat and seen = now. So the record, the
-- index and the session live at least their TTL after the last message (a
-- message within `renew` of the last renewal is covered by what it added),
-- at most `renew` more; refs:{} (its writers set DVCBOT_USER_TTL when they
-- add, refs.h) within `renew` either way; seen is exact to `renew`. A load
-- that could not rely on the last renewal renews every time and leaves seen
-- `renew` back (due again at the next load; C passes that time as now): an
-- event without id (an index it did not make, made by a later load, would
-- have no TTL) and a chat that is not the user's own (a group: the record's
-- chat goes back to theirs with their next message). Records written by the
-- version before (seen = the last message, TTLs set by every message) read
-- the same: no compatibility branch.
-- keys, args, k, a: dialog_load's (the shared arguments at args[1..6]).
local function user_ttls_renew(keys, args, k, a)
  local seen = args[2]
  if args[a + 5] == '2' then seen = sformat('%d', tonum(args[2]) - tonum(args[6])) end
  rcall('HSET', keys[k + 3], 'ch', args[a + 6], 'chat', args[a + 7], 'seen', seen)
  rcall('EXPIRE', keys[k + 3], args[4])
  rcall('EXPIRE', keys[k + 5], args[4])
  rcall('EXPIRE', keys[k + 2], args[3])
  rcall('EXPIRE', keys[k + 4], args[5])
end

-- The latest seen of a record whose TTLs are due: now - renew (args[2] -
-- args[6]), in decimal (tonumber is a strtod, ~1 100 instructions: the loads
-- of one FCALL share this one, and compare it with seen as text, dec_lt).
-- The loads of the same second share the last one made (library 24).
local due_now, due_renew, due_last
local function renew_due(args)
  if args[2] ~= due_now or args[6] ~= due_renew then
    due_now, due_renew, due_last = args[2], args[6], sformat('%d', tonum(args[2]) - tonum(args[6])) end
  return due_last
end

-- Whether the load renews the user's TTLs: mode '2' always, '1' when the
-- record's seen is renew seconds old or more (at most due, renew_due above).
local function user_ttls_due(rec, args, a, due)
  local mode = args[a + 5]
  if mode ~= '1' then return mode == '2' end
  local seen = rcall('HGET', rec, 'seen')
  return not seen or not dec_lt(due, seen)
end

-- Loads a turn in one round trip (see dialog.h): marks the event (a mark
-- already there means a redelivery), and now and then drops the index's
-- marks older than the dedupe TTL, renews the user's TTLs when due (above),
-- reads the session.
-- KEYS: the event's mark of before (dd:{u}:<id>, read only), the user's
-- index dd:{u}, the user record, the session, refs:{u}. ARGV: first those
-- the loads of a loop turn share (sent once for them all, fcall_group.h):
-- the score of the oldest live in-hand mark, now (unix s), the index's TTL
-- + renew, the record's TTL + renew, the session's TTL + renew, renew; then
-- the load's own: '1' to mark the event, its mark's score, the event id,
-- the oldest time kept in the index ('' = no trim this time), the renewal
-- mode ('0' none: a web chat page load, '1' when due, '2' always: the seen
-- written is then now - renew), channel, chat.
-- Returns the mark found or false, and the session or false (two values:
-- the registered functions put them in a table or a flat reply). (k, a: where
-- this load's keys and own arguments start, for dialog_load_many; due:
-- renew_due(args), or nil.)
-- (dialog)
local LOAD_SHARED, LOAD_OWN = 6, 7
local function dialog_mark(keys, args, k, a, due)
  local found = false
  if args[a + 1] == '1' then
    found = mark_event(keys[k + 2], keys[k + 1], args[a + 3], args[a + 2], args[1])
    if args[a + 4] ~= '' then marks_trim(keys[k + 2], args[a + 4]) end
  end
  if user_ttls_due(keys[k + 3], args, a, due or renew_due(args)) then user_ttls_renew(keys, args, k, a) end
  return found
end
-- dialog_mark with two keys (library 23): the user's index dd:{u} and record
-- u:{u}; the event's mark of before (dd:{u}:<id>, read only for a mark of
-- before both schemes), the session s:{u} and refs:{u} (renewed once an hour)
-- are made from the index's name when needed: three strings fewer per load
-- for Redis to parse and Lua to make. The same arguments.
local function dialog_mark_idx(keys, args, k, a, due)
  local idx, found = keys[k + 1], false
  if args[a + 1] == '1' then
    found = mark_event(idx, nil, args[a + 3], args[a + 2], args[1])
    if args[a + 4] ~= '' then marks_trim(idx, args[a + 4]) end
  end
  if user_ttls_due(keys[k + 2], args, a, due or renew_due(args)) then
    local tag = ssub(idx, 4)
    user_ttls_renew({'', idx, keys[k + 2], 's:' .. tag, 'refs:' .. tag}, args, 0, a)
  end
  return found
end
local function dialog_load(keys, args, k, a, due)
  return dialog_mark(keys, args, k, a, due), rcall('GET', keys[k + 4])
end
-- A caller of the version before (a rolling upgrade: this library serves
-- an old process too) sent each load's thirteen arguments in another order,
-- with no shared ones: '1'/'0' first, where this version's is a negative
-- score. Its load at args[a + 1..] in this version's order (its mode-'2'
-- now was already now - renew).
local function load_args_of_before(args, a)
  local now = args[a + 4]
  if args[a + 8] == '2' then now = sformat('%d', tonum(now) + tonum(args[a + 13])) end
  return {args[a + 3], now, args[a + 7], args[a + 11], args[a + 12], args[a + 13],
    args[a + 1], args[a + 2], args[a + 5], args[a + 6], args[a + 8], args[a + 9], args[a + 10]}
end
local function load_of_before(args) return args[1] == '1' or args[1] == '0' end

-- One load (KEYS and ARGV as dialog_load above, or of the version before).
-- (dialog)
redis.register_function('dialog_load', function(keys, args)
  if not rcall then bind() end
  if load_of_before(args) then return {dialog_load(keys, load_args_of_before(args, 0), 0, LOAD_SHARED)} end
  return {dialog_load(keys, args, 0, LOAD_SHARED)}
end)

-- The loads of one loop turn together (fcall_group.h): KEYS: the five keys
-- of each load, in order; ARGV: the six shared arguments, then the seven
-- own of each (a caller of the version before: the thirteen of each).
-- Returns dialog_load's reply of each, or an error for a load
-- that failed alone (e.g. a key of the wrong type), the others going on.
-- (dialog)
redis.register_function('dialog_load_many', function(keys, args)
  if not rcall then bind() end
  local out, before = {}, load_of_before(args)
  local due = not before and renew_due(args)
  for i = 0, #keys / 5 - 1 do
    local ok, r, s
    if before then ok, r, s = lpcall(dialog_load, keys, load_args_of_before(args, 13 * i), 5 * i, LOAD_SHARED)
    else ok, r, s = lpcall(dialog_load, keys, args, 5 * i, LOAD_SHARED + LOAD_OWN * i, due) end
    if ok then out[i + 1] = {r, s}
    else out[i + 1] = {err = ltype(r) == 'table' and r.err or tostr(r)} end
  end
  return out
end)

-- The loads of one loop turn as dialog_load_many (KEYS: the five keys of
-- each load; ARGV: the six shared arguments, then the seven own of each),
-- answered flat (see the *_flat functions above): 2 and dialog_load's two elements for each.
-- (dialog, fcall_group)
redis.register_function('dialog_load_many_flat', function(keys, args)
  if not rcall then bind() end
  local out, at, due = {}, 1, renew_due(args)
  for i = 0, #keys / 5 - 1 do
    local ok, r, s = lpcall(dialog_load, keys, args, 5 * i, LOAD_SHARED + LOAD_OWN * i, due)
    if ok then out[at], out[at + 1], out[at + 2] = 2, r, s; at = at + 3
    else out[at] = {err = ltype(r) == 'table' and r.err or tostr(r)}; at = at + 1 end
  end
  return out
end)

-- dialog_load without the session's GET (library 18): the same keys and
-- arguments, returns the mark found or false alone; the caller reads the
-- session with a plain command sent after it (src/dialog.c, one MGET for
-- the loads of a loop turn). The session is not read under the mark: what
-- the mark decides (handle or drop the event) does not depend on it, and a
-- user's session is written only by the commit of that user's previous turn,
-- which C has seen answered before it sends the next load (and the GET),
-- so the GET after the FCALL reads what the GET inside it read. A plain GET
-- costs Redis less than a redis.call: no Lua string made of the session
-- (hashed byte by byte) and none made back into a reply. dialog_load and
-- dialog_load_many_flat stay for processes of library 17 and before (a
-- rolling upgrade).
-- (dialog)
redis.register_function('dialog_mark', function(keys, args)
  if not rcall then bind() end
  return {dialog_mark(keys, args, 0, LOAD_SHARED)}
end)

-- The marks of a loop turn's loads, each by mark(keys, args, k, a, due)
-- with nkeys keys: for each, 1 and the mark found, or an error element alone.
local function marks_flat(keys, args, nkeys, mark)
  local out, at, due = {}, 1, renew_due(args)
  for i = 0, #keys / nkeys - 1 do
    local ok, r = lpcall(mark, keys, args, nkeys * i, LOAD_SHARED + LOAD_OWN * i, due)
    if ok then out[at], out[at + 1] = 1, r; at = at + 2
    else out[at] = {err = ltype(r) == 'table' and r.err or tostr(r)}; at = at + 1 end
  end
  return out
end

-- The loads of one loop turn as dialog_load_many_flat (KEYS: the five keys
-- of each load; ARGV: the six shared arguments, then the seven own of each),
-- without the sessions: for each, 1 and the mark found (or an error element
-- alone).
-- (dialog, fcall_group)
redis.register_function('dialog_mark_many_flat', function(keys, args)
  if not rcall then bind() end
  return marks_flat(keys, args, 5, dialog_mark)
end)

-- dialog_mark and dialog_mark_many_flat with two keys per load, the user's
-- index dd:{<user>} and record u:{<user>} (dialog_mark_idx above), the same
-- arguments and replies (library 23; the five-key functions stay for
-- processes of library 22 and before).
-- (dialog)
redis.register_function('dialog_mark_idx', function(keys, args)
  if not rcall then bind() end
  return {dialog_mark_idx(keys, args, 0, LOAD_SHARED)}
end)
-- (dialog, fcall_group)
redis.register_function('dialog_mark_many_idx', function(keys, args)
  if not rcall then bind() end
  return marks_flat(keys, args, 2, dialog_mark_idx)
end)

-- The event of a commit: its mark of before dd:{<user>}:<id> names the
-- index and the id. Marks it done, or ('c') forgets it.
local function commit_mark(old_key, op, score)
  local at = sfind(old_key, '}:', 1, true)
  if not at then return end
  local idx, id = ssub(old_key, 1, at), ssub(old_key, at + 2)
  if op == 'c' then rcall('ZREM', idx, id)
  else rcall('ZADD', idx, 'XX', score, id) end
end

-- One turn (or one saved message) in one round trip; see outbox_store.h.
-- KEYS: the event's mark of before (dd:{u}:<id>: names the index and the
-- event, see Event marks), session, user record. ARGV: first those the
-- commits of a loop turn share (sent once for them all, fcall_group.h):
-- this process's stream, the done mark's score, session TTL, consumer,
-- trust ('1': this process holds every entry it committed before); then
-- the commit's own: dedupe ('1': mark the event done, 'c': forget it, '0':
-- nothing), session op ('k','s','d'), session, chat, reply_ref, user key,
-- n, then text and buttons of each reply. Returns {1, gated, first seq -
-- 1, has seq, id...}. (k, a: where this commit's keys and own arguments
-- start, for outbox_commit_many; n: the number of replies when the caller
-- knows it, else read; out, o: the table the reply's elements go to, at
-- out[o + 1...], a new one by default; returns out.)
-- Dedupe 'i:<ttl>' marks the event done like '1' and asks to keep the first
-- reply for the caller to hand over itself (Telegram's reply in the webhook
-- response, outbox_store.h "Handed replies"): when none of the user's
-- earlier replies can still be unsent (od has reached oq, or no record), it
-- goes to the event's kept reply <mark of before>:r (SET, EX ttl: '<length
-- of b>:' .. b .. t) instead of the stream, counts as settled (od), and its
-- id in the reply is 'k'. A library of before reads 'i:..' as '1' and
-- streams it (C then sends it as usual).
-- Numbers go to Redis as text made here (string.format '%d'): a Lua number
-- handed to redis.call is printed with snprintf("%.17g"), some thousands of
-- instructions. An entry without reply_ref has no field r (read as "", as
-- by the version before).
-- The read and the commands that can fail on a key of the wrong type (the
-- user record's HMGET, the stream's XADD) come before the writes that
-- cannot (counters, session, mark): a commit that fails has written
-- nothing, so its event stays "in hand" and is handled again when the
-- channel redelivers it, as after a crash.
-- (outbox_store)
local COMMIT_KEYS, COMMIT_SHARED = 3, 5
-- The numbers a commit reads and writes most, without tonumber (a strtod,
-- ~1 100 instructions) or a Lua number handed to redis.call (printed with
-- snprintf "%.17g", ~1 800): a commit's own argument count (7 + 2 x its
-- replies) read from the table, its reply count written from the text
-- (library 20). Others as before. (Filled by bind: string.format is not there while the library loads.)
-- tonumber is a strtod (~1 100 instructions): od and oq are compared as
-- text (dec_lt), oq read as a number once for the seqs.
-- A commit with replies that keeps none (dedupe not 'i:'), as outbox_commit
-- below, in fewer and cheaper calls: HGET oo (a string; HMGET's reply is a
-- table, which costs Redis ~5 000 instructions to hand to Lua) and oq
-- counted up with HINCRBY (its integer reply is q + n: no tonumber, no
-- HSET of the text). A record with oo has ch (oo is written only into
-- records with ch); without oo, ch is asked (the record's first commit).
-- od and oq are read (HMGET) only for the gate: trust not given or another
-- process committed last. HINCRBY is the one write before the XADDs: an
-- XADD that fails (a stream key of another type) takes it back, and the
-- entries added before it, so that a commit that fails has written
-- nothing, as outbox_commit says.
local function outbox_commit_counted(keys, args, k, a, n, out, o)
  local rec, q, gated, has = keys[k + 3], 0, 0, 0
  local oo = rcall('HGET', rec, 'oo')
  if oo or rcall('HEXISTS', rec, 'ch') == 1 then
    has = 1
    if not (args[5] == '1' and oo == args[4]) then
      local f = rcall('HMGET', rec, 'od', 'oq')
      if dec_lt(f[1] or '0', f[2] or '0') then gated = 1 end end
    q = rcall('HINCRBY', rec, 'oq', COUNT_TEXT[n] or sformat('%d', n)) - n end
  out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, gated, q, has
  local user, ref = has == 1 and args[a + 6] or '', args[a + 5]
  for i = 1, n do
    local seq = has == 1 and seq_text(q + i) or '0'
    local id
    if ref == '' then
      id = rpcall('XADD', args[1], '*', 'u', user, 'c', args[a + 4], 'q', seq,
        't', args[a + 6 + 2 * i], 'b', args[a + 7 + 2 * i])
    else
      id = rpcall('XADD', args[1], '*', 'u', user, 'c', args[a + 4], 'q', seq,
        'r', ref, 't', args[a + 6 + 2 * i], 'b', args[a + 7 + 2 * i]) end
    if ltype(id) == 'table' then
      if has == 1 then
        if q == 0 and not oo then rcall('HDEL', rec, 'oq')
        else rcall('HINCRBY', rec, 'oq', COUNT_TEXT[-n] or sformat('%d', -n)) end end
      for j = o + 5, o + 3 + i do rcall('XDEL', args[1], out[j]) end
      return error(id) end
    out[o + 4 + i] = id end
  if has == 1 and oo ~= args[4] then
    if oo or q > 0 then rcall('HSET', rec, 'oo', args[4])   -- q > 0: od may be there
    else rcall('HSET', rec, 'oo', args[4], 'od', '0') end end
  -- the session and the mark as outbox_commit's last lines (a Lua function
  -- of their own costs a commit ~400 instructions)
  if args[a + 2] == 's' then rcall('SET', keys[k + 2], args[a + 3], 'EX', args[3])
  elseif args[a + 2] == 'd' then rcall('DEL', keys[k + 2]) end
  if args[a + 1] ~= '0' then commit_mark(keys[k + 1], args[a + 1], args[2]) end
  return out
end

-- The kept reply's TTL: the dedupe 'i:<ttl>' of the last kept commit and its
-- TTL (the same for every commit of a process: no string.sub each time).
local kept_dedupe, kept_ttl
local function outbox_commit(keys, args, k, a, n, out, o)
  n = n or tonum(args[a + 7])
  out, o = out or {}, o or 0
  local ask = n > 0 and args[a + 1] ~= '1' and ssub(args[a + 1], 1, 2) == 'i:'
  if n > 0 and not ask then return outbox_commit_counted(keys, args, k, a, n, out, o) end
  local q, gated, has = 0, 0, 0
  local f = n > 0 and rcall('HMGET', keys[k + 3], 'oq', 'od', 'oo', 'ch') or {}
  if f[4] then
    q = seq_number(f[1]) or 0
    if not (args[5] == '1' and f[3] == args[4]) and dec_lt(f[2] or '0', f[1] or '0') then gated = 1 end
    has = 1 end
  out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, gated, q, has
  local user, ref = has == 1 and args[a + 6] or '', args[a + 5]
  local keep = ask and (has == 0 or not dec_lt(f[2] or '0', f[1] or '0'))
  local seq, id
  for i = 1, n do
    seq = has == 1 and seq_text(q + i) or '0'
    if i == 1 and keep then id = 'k'
    elseif ref == '' then
      id = rpcall('XADD', args[1], '*', 'u', user, 'c', args[a + 4], 'q', seq,
        't', args[a + 6 + 2 * i], 'b', args[a + 7 + 2 * i])
    else
      id = rpcall('XADD', args[1], '*', 'u', user, 'c', args[a + 4], 'q', seq,
        'r', ref, 't', args[a + 6 + 2 * i], 'b', args[a + 7 + 2 * i]) end
    if ltype(id) == 'table' then   -- the entries added before it go: nothing written yet
      for j = o + 5, o + 3 + i do if out[j] ~= 'k' then rcall('XDEL', args[1], out[j]) end end
      return error(id) end
    out[o + 4 + i] = id end
  -- the kept reply after the XADDs (a SET does not fail on a key's type): a
  -- commit whose XADD fails leaves no kept reply behind (library 18)
  if keep then
    local b = args[a + 9]
    if args[a + 1] ~= kept_dedupe then kept_dedupe, kept_ttl = args[a + 1], ssub(args[a + 1], 3) end
    rcall('SET', keys[k + 1] .. ':r', seq_text(#b) .. ':' .. b .. args[a + 8], 'EX', kept_ttl) end
  if has == 1 then
    local oq = seq   -- q + n
    if keep then
      if f[3] == args[4] then rcall('HSET', keys[k + 3], 'oq', oq, 'od', seq_text(q + 1))
      else rcall('HSET', keys[k + 3], 'oq', oq, 'oo', args[4], 'od', seq_text(q + 1)) end
    elseif f[3] == args[4] then rcall('HSET', keys[k + 3], 'oq', oq)
    elseif f[1] then rcall('HSET', keys[k + 3], 'oq', oq, 'oo', args[4])
    else rcall('HSET', keys[k + 3], 'oq', oq, 'oo', args[4], 'od', '0') end end
  if args[a + 2] == 's' then rcall('SET', keys[k + 2], args[a + 3], 'EX', args[3])
  elseif args[a + 2] == 'd' then rcall('DEL', keys[k + 2]) end
  if args[a + 1] ~= '0' then commit_mark(keys[k + 1], args[a + 1], args[2]) end
  return out
end
-- outbox_commit_counted for the commit of one reply with dedupe '1' and no
-- reply_ref (C's rule: every commit of the default mode), its arguments
-- where the full layout has them: the same calls, writes and reply, in
-- fewer Lua steps (no reply loop, no branch on the ref, the count and the
-- mark's op known; library 25). outbox_commit_many_flat takes it.
local function commit_one(keys, args, k, a, out, o)
  local rec, q, gated, has = keys[k + 3], 0, 0, 0
  local oo = rcall('HGET', rec, 'oo')
  if oo or rcall('HEXISTS', rec, 'ch') == 1 then
    has = 1
    if not (args[5] == '1' and oo == args[4]) then
      local f = rcall('HMGET', rec, 'od', 'oq')
      if dec_lt(f[1] or '0', f[2] or '0') then gated = 1 end end
    q = rcall('HINCRBY', rec, 'oq', '1') - 1 end
  out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, gated, q, has
  local id = rpcall('XADD', args[1], '*', 'u', has == 1 and args[a + 6] or '', 'c', args[a + 4],
    'q', has == 1 and seq_text(q + 1) or '0', 't', args[a + 8], 'b', args[a + 9])
  if ltype(id) == 'table' then   -- the count taken back: nothing written
    if has == 1 then
      if q == 0 and not oo then rcall('HDEL', rec, 'oq')
      else rcall('HINCRBY', rec, 'oq', '-1') end end
    return error(id) end
  out[o + 5] = id
  if has == 1 and oo ~= args[4] then
    if oo or q > 0 then rcall('HSET', rec, 'oo', args[4])
    else rcall('HSET', rec, 'oo', args[4], 'od', '0') end end
  local op = args[a + 2]
  if op == 's' then rcall('SET', keys[k + 2], args[a + 3], 'EX', args[3])
  elseif op == 'd' then rcall('DEL', keys[k + 2]) end
  commit_mark(keys[k + 1], '1', args[2])
  return out
end

-- A caller of the version before (a rolling upgrade) sent four keys per
-- commit, the stream the fourth, and no shared arguments: its first
-- argument is not a stream name. Its commit (keys from k + 1, its
-- arguments from a + 1) as this version's keys and arguments.
local function commit_of_before(args) return ssub(args[1], 1, 7) ~= 'outbox:' end
local function commit_in_this_version(keys, args, k, a)
  local own = {keys[k + 4], args[a + 2], args[a + 5], args[a + 6], args[a + 7], args[a + 1], args[a + 3],
    args[a + 4], args[a + 8], args[a + 9], args[a + 10], args[a + 11]}
  for i = a + 12, a + 11 + 2 * tonum(args[a + 11]) do own[#own + 1] = args[i] end
  return {keys[k + 1], keys[k + 2], keys[k + 3]}, own
end

-- One commit (KEYS and ARGV as outbox_commit above, or of the version
-- before). (outbox_store)
redis.register_function('outbox_commit', function(keys, args)
  if not rcall then bind() end
  if commit_of_before(args) then
    local k, a = commit_in_this_version(keys, args, 0, 0)
    return outbox_commit(k, a, 0, COMMIT_SHARED)
  end
  return outbox_commit(keys, args, 0, COMMIT_SHARED) end)

-- The commits of one loop turn together (group commit): KEYS: the three
-- keys of each commit, in order; ARGV: the five shared arguments, then for
-- each commit the number of its own arguments and those (a caller of the
-- version before: four keys and the number and arguments of each). Returns
-- outbox_commit's reply of each, or an error for a commit that failed
-- alone (which wrote nothing), the others going on.
-- (outbox_store)
redis.register_function('outbox_commit_many', function(keys, args)
  if not rcall then bind() end
  if commit_of_before(args) then
    local out, at = {}, 1
    for i = 1, #keys / 4 do
      local ok, r = lpcall(function()
        local k, a = commit_in_this_version(keys, args, 4 * (i - 1), at)
        return outbox_commit(k, a, 0, COMMIT_SHARED) end)
      if ok then out[i] = r
      else out[i] = {err = ltype(r) == 'table' and r.err or tostr(r)} end
      at = at + 1 + tonum(args[at])
    end
    return out
  end
  local out, at = {}, COMMIT_SHARED + 1
  for i = 1, #keys / COMMIT_KEYS do
    local own = tonum(args[at])   -- 7 + 2 x the replies
    local ok, r = lpcall(outbox_commit, keys, args, COMMIT_KEYS * (i - 1), at, (own - 7) / 2)
    if ok then out[i] = r
    else out[i] = {err = ltype(r) == 'table' and r.err or tostr(r)} end
    at = at + 1 + own
  end
  return out
end)

-- The commits of one loop turn as outbox_commit_many (KEYS: the three keys
-- of each commit; ARGV: the five shared arguments, then for each commit the
-- number of its own arguments and those), answered flat (the *_flat
-- functions, above): for each, the number of elements of outbox_commit's
-- reply (4 + its replies) and those.
-- (outbox_store, fcall_group)
redis.register_function('outbox_commit_many_flat', function(keys, args)
  if not rcall then bind() end
  local out, at, a = {}, 1, COMMIT_SHARED + 1
  for i = 1, #keys / COMMIT_KEYS do
    local own = OWN_COUNT[args[a]] or tonum(args[a])   -- 7 + 2 x the replies
    local n = (own - 7) / 2
    local ok, r
    if own == 9 and args[a + 1] == '1' and args[a + 5] == '' then   -- one reply, dedupe 1, no ref
      ok, r = lpcall(commit_one, keys, args, COMMIT_KEYS * (i - 1), a, out, at)
    else ok, r = lpcall(outbox_commit, keys, args, COMMIT_KEYS * (i - 1), a, n, out, at) end
    if ok then out[at] = 4 + n; at = at + 5 + n
    else   -- what it put in place goes (nothing of it is left past the end)
      for j = at + 1, at + 4 + n do out[j] = nil end
      out[at] = {err = ltype(r) == 'table' and r.err or tostr(r)}; at = at + 1 end
    a = a + 1 + own
  end
  return out
end)

-- od of a record moved forward to s (text, a whole number > 0), never back,
-- never into a record without the commit counter oq (gone, erased, or made
-- again since: an entry with a seq was committed into a record with oq). A
-- record with od has oq (od is written only with oq or where oq is, and
-- nothing deletes oq alone); the commit writes od 0 with a record's first
-- oq (library 13). A user's replies settle in order, so od is s - 1 as a
-- rule: HINCRBY od 1 then answers s and od is moved in one call, where
-- HGET + HSET were two (~6 000 instructions per entry, library 19).
-- Otherwise its answer says what od was, and a second call puts od where it
-- belongs: s when od was behind by more, back as it was when it was at or
-- past s, taken out when HINCRBY made it (no od and no oq: the record is
-- left as it was, or not made). od not a whole number (HINCRBY refuses it):
-- read and compared as text, as before.
local function settle_od(rec, s)
  local n = seq_number(s)
  local r = n and rpcall('HINCRBY', rec, 'od', '1')
  if r == n and n > 1 then return end   -- od was s - 1
  if ltype(r) ~= 'number' then
    local od = rcall('HGET', rec, 'od')
    if od then
      if dec_lt(od, s) then rcall('HSET', rec, 'od', s) end
    elseif rcall('HEXISTS', rec, 'oq') == 1 then rcall('HSET', rec, 'od', s) end
  elseif r == 1 then   -- od was 0, or missing and made by HINCRBY
    if rcall('HEXISTS', rec, 'oq') == 0 then rcall('HDEL', rec, 'od')
    elseif n > 1 then rcall('HSET', rec, 'od', s) end
  elseif r - 1 < n then rcall('HSET', rec, 'od', s)
  else rcall('HINCRBY', rec, 'od', '-1') end
end

-- Settles entries: deleted from this process's stream, and each user's
-- last settled reply (od) moved forward (settle_od). KEYS: stream, then one
-- user record per entry ("" for none). ARGV: id and seq of each entry; or
-- (library 22, an odd number) first a MINID: the stream is trimmed below
-- it (XTRIM MINID =, one walk for what XDEL walks once per id: the caller
-- knows that every entry below it is settled, outbox_ledger.h), and the
-- ids given as "" are those it took. Returns the number of entries.
-- (outbox_store)
redis.register_function('outbox_settle', function(keys, args)
  if not rcall then bind() end
  local ids, from = {}, #args % 2 + 1
  if from == 2 then rcall('XTRIM', keys[1], 'MINID', '=', args[1]) end
  for i = from, #args, 2 do
    if args[i] ~= '' then ids[#ids + 1] = args[i] end end
  if #ids > 0 then rcall('XDEL', keys[1], lunpack(ids)) end
  for i = 2, #keys do
    local s = args[from - 1 + 2 * (i - 1)]
    if s ~= '0' and s ~= '' and keys[i] ~= '' then settle_od(keys[i], s) end end
  return #keys - 1
end)

-- Takes over (a page of) the entries of one process of the channel whose
-- heartbeat is gone: each moves, in order, from its stream to ours (a new
-- id). KEYS: the channel's set of processes, our stream. ARGV: this
-- consumer, heartbeat prefix, the channel's stream prefix, count. Returns
-- the moved entries as XRANGE does, or {}. Reaches the other processes'
-- streams and heartbeats by name: one Redis, not Cluster.
-- (outbox_store)
redis.register_function('outbox_claim', function(keys, args)
  for _, c in ipairs(redis.call('SMEMBERS', keys[1])) do
    if c ~= args[1] and redis.call('EXISTS', args[2] .. c) == 0 then
      local from = args[3] .. c
      local es = redis.call('XRANGE', from, '-', '+', 'COUNT', args[4])
      if #es == 0 then
        redis.call('DEL', from)
        redis.call('SREM', keys[1], c)
      else
        local out = {}
        for i, e in ipairs(es) do
          out[i] = {redis.call('XADD', keys[2], '*', unpack(e[2])), e[2]}
          redis.call('XDEL', from, e[1]) end
        return out end end end
  return {}
end)

-- KEYS: volunteers, refs:{user}, vol:{user}. ARGV: user, "1" add / "0"
-- remove, commune, now, DVCBOT_USER_TTL. refs:{} and vol:{} live the TTL
-- after their last write, as every writer of refs:{} does (refs.h); the
-- hourly sweep takes a volunteer whose refs:{} expired out of the set.
-- Returns 1 when membership changed.
-- (volunteer)
redis.register_function('volunteer_register', function(keys, args)
  if args[2] == '1' then
    redis.call('SADD', keys[2], keys[1])
    redis.call('EXPIRE', keys[2], args[5])
    local added = redis.call('SADD', keys[1], args[1])
    redis.call('HSET', keys[3], 'commune', args[3])
    redis.call('HSETNX', keys[3], 'added_at', args[4])
    redis.call('EXPIRE', keys[3], args[5])
    return added
  end
  return redis.call('SREM', keys[1], args[1])
end)

-- KEYS: volunteers, vol:{u}. Returns {member?, registered commune}.
-- (volunteer_household)
redis.register_function('volunteer_household_who', function(keys, args)
  return {redis.call('SISMEMBER', keys[1], args[1]), redis.call('HGET', keys[2], 'commune')}
end)

-- KEYS: coverage:done, coverage:log, vol:{u}, coverage:villages.
-- ARGV: "<commune key>|<village key>|", vneid, online, paid (1/0), log entry,
-- village field, village JSON (kept when staff have not set it up),
-- DVCBOT_USER_TTL (vol:{u} lives it after its last write).
-- (volunteer_household)
redis.register_function('volunteer_household_record', function(keys, args)
  local p = args[1]
  redis.call('HINCRBY', keys[1], p .. 'visits', 1)
  if args[2] == '1' then redis.call('HINCRBY', keys[1], p .. 'vneid', 1) end
  if args[3] == '1' then redis.call('HINCRBY', keys[1], p .. 'online', 1) end
  if args[4] == '1' then redis.call('HINCRBY', keys[1], p .. 'paid', 1) end
  if args[2] == '1' and args[3] == '1' and args[4] == '1' then
    redis.call('HINCRBY', keys[1], p .. 'met', 1) end
  redis.call('LPUSH', keys[2], args[5])
  redis.call('LTRIM', keys[2], 0, 100000 - 1)
  redis.call('HSETNX', keys[4], args[6], args[7])
  local n = redis.call('HINCRBY', keys[3], 'households', 1)
  redis.call('EXPIRE', keys[3], args[8])
  return n
end)

-- Households visited per village, and the villages staff set up.
-- KEYS: coverage:villages, coverage:done. Returns {HGETALL, HGETALL}.
-- (console_volunteers)
redis.register_function('console_household_coverage', function(keys, args)
  return {redis.call('HGETALL', keys[1]), redis.call('HGETALL', keys[2])}
end)

-- Every key of a user, deleted in one call: the keys named (all with the
-- user's hash tag: one slot, also on a cluster), among them the index of
-- event marks dd:{<user>} (keys[1]), and for its ids the keys <dedupe
-- prefix><id> of marks made before the index held them (see Event marks)
-- and <dedupe prefix><id>:r, an event's kept reply (outbox_commit).
-- Returns the names of those that existed.
-- KEYS: dd:{<user>}, then every other key the user may own (erase.c).
-- ARGV: the dedupe prefix "dd:{<user>}:".
-- (erase)
redis.register_function('erase_user_keys', function(keys, args)
  local gone = {}
  for _, id in ipairs(redis.call('ZRANGE', keys[1], 0, -1)) do
    if redis.call('DEL', args[1] .. id) == 1 then gone[#gone + 1] = args[1] .. id end
    if redis.call('DEL', args[1] .. id .. ':r') == 1 then gone[#gone + 1] = args[1] .. id .. ':r' end
  end
  for i = 1, #keys do
    if redis.call('DEL', keys[i]) == 1 then gone[#gone + 1] = keys[i] end
  end
  return gone
end)

-- A web chat id the store knows goes on; a new one counts against its
-- address: at most ARGV[2] per window. Returns 1 go on, 0 refused.
-- KEYS: u:{wc:<id>}, s:{wc:<id>}, wc:new:<address>. ARGV: id, limit, window.
-- (webchat_guard)
redis.register_function('webchat_new_id', function(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 or redis.call('EXISTS', keys[2]) == 1 then return 1 end
  if redis.call('SISMEMBER', keys[3], args[1]) == 1 then return 1 end
  if redis.call('SCARD', keys[3]) >= tonumber(args[2]) then return 0 end
  redis.call('SADD', keys[3], args[1])
  if redis.call('TTL', keys[3]) < 0 then redis.call('EXPIRE', keys[3], args[3]) end
  return 1
end)

-- The staff console's sign-in trail: one event (JSON, no secret, the address
-- masked) at the head of the list, which keeps the newest args[2].
-- KEYS[1] console:audit. ARGV[1] the event, ARGV[2] events kept.
-- (console_audit)
redis.register_function('console_audit_push', function(keys, args)
  redis.call('LPUSH', keys[1], args[1])
  redis.call('LTRIM', keys[1], 0, tonumber(args[2]) - 1)
  return 1
end)

-- A refused console sign-in counted per day and masked address (never what
-- was typed); past args[3] addresses in a day the rest count under '*'.
-- KEYS[1] console:audit:failed:<yyyymmdd>. ARGV[1] the masked address,
-- ARGV[2] seconds the day is kept, ARGV[3] addresses kept a day.
-- (console_audit)
redis.register_function('console_audit_failed', function(keys, args)
  local field = args[1]
  if redis.call('HEXISTS', keys[1], field) == 0 and
     redis.call('HLEN', keys[1]) >= tonumber(args[3]) then field = '*' end
  redis.call('HINCRBY', keys[1], field, 1)
  redis.call('EXPIRE', keys[1], args[2])
  return 1
end)

-- Desk-side erasure (erase_desk.c, console_erase.c). A resident's one-time
-- code: ec:{<user>} holds its SHA-256, the index ec:h:<sha256> the user key
-- (listed in refs:{<user>}, so erase-my-data deletes it too); both expire
-- after args[3] s. A new code replaces the old one. Returns 0, nothing
-- written, when the index of this hash is taken (another resident's code:
-- the caller draws again).
-- KEYS: ec:{<user>}, ec:h:<sha256>, refs:{<user>}. ARGV: sha256, user key,
-- seconds, seconds refs:{} lasts.
-- (erase_desk)
redis.register_function('desk_code_new', function(keys, args)
  if redis.call('EXISTS', keys[2]) == 1 then return 0 end
  local old = redis.call('GET', keys[1])
  if old then
    redis.call('DEL', 'ec:h:' .. old)
    redis.call('SREM', keys[3], 'ec:h:' .. old)
  end
  redis.call('SET', keys[1], args[1], 'EX', args[3])
  redis.call('SET', keys[2], args[2], 'EX', args[3])
  redis.call('SADD', keys[3], keys[2])
  redis.call('EXPIRE', keys[3], args[4])
  return 1
end)

-- "Không xóa" in the chat (erase.c): the user's outstanding code goes, with
-- its index and its line in refs:{<user>}, so a resident who said no cannot
-- be erased by a code they were shown. Returns 1 when there was one, else 0.
-- KEYS: ec:{<user>}, refs:{<user>}.
-- (erase_desk)
redis.register_function('desk_code_drop', function(keys, args)
  local old = redis.call('GET', keys[1])
  if not old then return 0 end
  redis.call('DEL', keys[1], 'ec:h:' .. old)
  redis.call('SREM', keys[2], 'ec:h:' .. old)
  return 1
end)

-- A code typed at the desk. Wrong tries count per token and per address
-- (KEYS[2], KEYS[3]) for args[2] s; at args[1] of either, nothing is read
-- ({'wait'}, a right code included). An unknown, expired or replaced code
-- counts as wrong ({'unknown'}); a right one is deleted with its index and
-- answered {'ok', user key, ch, chat} from the user record.
-- KEYS: ec:h:<sha256>, ec:fail:t:<token id>, ec:fail:a:<address>.
-- ARGV: limit, window, sha256.
-- (erase_desk)
redis.register_function('desk_code_take', function(keys, args)
  local limit = tonumber(args[1])
  if tonumber(redis.call('GET', keys[2]) or '0') >= limit or
     tonumber(redis.call('GET', keys[3]) or '0') >= limit then return {'wait'} end
  local user = redis.call('GET', keys[1])
  if not user or redis.call('GET', 'ec:{' .. user .. '}') ~= args[3] then
    for i = 2, 3 do
      if redis.call('INCR', keys[i]) == 1 then redis.call('EXPIRE', keys[i], args[2]) end
    end
    return {'unknown'}
  end
  redis.call('DEL', keys[1], 'ec:{' .. user .. '}')
  redis.call('SREM', 'refs:{' .. user .. '}', keys[1])
  local u = redis.call('HMGET', 'u:{' .. user .. '}', 'ch', 'chat')
  return {'ok', user, u[1] or '', u[2] or ''}
end)
