-- bench/commit_compact_proto.lua (redis12d): a measurement-only prototype, not
-- part of the library. The commit's own arguments in a compact layout: a
-- form '1k' / '1s' (dedupe 1, op k/s, one reply, no ref), chat, user,
-- [session], text, buttons; any other first argument is the full layout's
-- count. Measure: insert this block into a copy of redis/dvcbot.lua (of
-- library 24 or 25) right before the registration of
-- outbox_commit_many_flat, rewrite a kept capture with
-- bench/capture_compact.py SRC DST, and replay DST with the copy
-- (bench/redis_cost.py --from DST --library COPY).
-- PROTOTYPE (measurement only): compact own arguments. Per commit: a form
-- '1k' / '1s' (dedupe 1, op k/s, one reply, no ref), chat, user, [session],
-- text, buttons; any other first argument is the full layout's count.
local FORMS = {['1k'] = 4, ['1s'] = 5}
local function commit_compact(keys, args, k, a, form, out, o)
  local rec, q, gated, has = keys[k + 3], 0, 0, 0
  local oo = rcall('HGET', rec, 'oo')
  if oo or rcall('HEXISTS', rec, 'ch') == 1 then
    has = 1
    if not (args[5] == '1' and oo == args[4]) then
      local f = rcall('HMGET', rec, 'od', 'oq')
      if dec_lt(f[1] or '0', f[2] or '0') then gated = 1 end end
    q = rcall('HINCRBY', rec, 'oq', '1') - 1 end
  out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, gated, q, has
  local s = form == '1s'
  local t = s and a + 4 or a + 3
  local seq = has == 1 and seq_text(q + 1) or '0'
  local id = rpcall('XADD', args[1], '*', 'u', has == 1 and args[a + 2] or '', 'c', args[a + 1], 'q', seq,
    't', args[t], 'b', args[t + 1])
  if ltype(id) == 'table' then
    if has == 1 then
      if q == 0 and not oo then rcall('HDEL', rec, 'oq')
      else rcall('HINCRBY', rec, 'oq', '-1') end end
    return error(id) end
  out[o + 5] = id
  if has == 1 and oo ~= args[4] then
    if oo or q > 0 then rcall('HSET', rec, 'oo', args[4])
    else rcall('HSET', rec, 'oo', args[4], 'od', '0') end end
  if s then rcall('SET', keys[k + 2], args[a + 3], 'EX', args[3]) end
  commit_mark(keys[k + 1], '1', args[2])
  return out
end
redis.register_function('outbox_commit_many_flat2', function(keys, args)
  if not rcall then bind() end
  local out, at, a = {}, 1, COMMIT_SHARED + 1
  for i = 1, #keys / COMMIT_KEYS do
    local form = args[a]
    local c = FORMS[form]
    if c then
      local ok, r = lpcall(commit_compact, keys, args, COMMIT_KEYS * (i - 1), a, form, out, at)
      if ok then out[at] = 5; at = at + 6
      else for j = at + 1, at + 5 do out[j] = nil end
        out[at] = {err = ltype(r) == 'table' and r.err or tostr(r)}; at = at + 1 end
      a = a + 1 + c
    else
      local own = OWN_COUNT[form] or tonum(form)
      local n = (own - 7) / 2
      local ok, r = lpcall(outbox_commit, keys, args, COMMIT_KEYS * (i - 1), a, n, out, at)
      if ok then out[at] = 4 + n; at = at + 5 + n
      else for j = at + 1, at + 4 + n do out[j] = nil end
        out[at] = {err = ltype(r) == 'table' and r.err or tostr(r)}; at = at + 1 end
      a = a + 1 + own
    end
  end
  return out
end)

