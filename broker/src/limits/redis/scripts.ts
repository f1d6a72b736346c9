// The Lua scripts of the Redis limit store. Each runs atomically in Redis: an admission checks and
// reserves every scope (user, team, team × model) in one step, all or nothing, as the in-memory
// store does in one synchronous call.
//
// Keys (P is KEYS[1], `{prefix}`: the braces are a Redis Cluster hash tag, so every key of a fleet
// lives in one slot and the scripts may build their keys from it):
//   P:epoch                    the counters' generation; missing after Redis restarted empty
//   P:w:<scope>                rolling window: hash of 1 s buckets, fields r<second> / t<second>
//   P:if:<scope>               requests in flight: zset ticket → lease expiry (ms)
//   P:t:<ticket>               a ticket's reservation "tokens nanoUsd", expiring with its lease
//   P:sd:<scope>:<dayStart>    spend of the day (nano-USD), expires 2 days after the day ends
//   P:sm:<scope>:<monthStart>  spend of the month (nano-USD), likewise
//   P:brokers                  zset instance → last heartbeat (ms)
//   P:ep:<epoch>:live          the brokers alive when that epoch was built (they add their own rows)
//   P:ep:<epoch>:c:<instance>  set once an instance added its rows to that epoch
//   P:rebuild-lock             held by the broker rebuilding an empty Redis
//
// Windows: 1 s buckets as window.ts keeps them (fields r<s>, t<s> and l<s>, the latest entry's time);
// a bucket counts until 60 s after its latest entry, so every entry counts for at least 60 s and at
// most 61 s: never more than the limit in any rolling minute. Totals (#r, #t) and the range of
// seconds (#lo, #hi) are kept beside the buckets, so an admission's cost doesn't grow with traffic.
// Money: integer nano-USD, exact in Lua's doubles below 2^53 (≈ $9M per counter); never INCRBYFLOAT.
// Time: the brokers' clock, passed in (`now`), so tests control it; brokers should run NTP (a clock
// 1 s off shifts its entries by 1 s within the window).

const PRELUDE = String.raw`
local P = KEYS[1]
-- A window's totals live beside its buckets (fields #r, #t, and #lo..#hi the seconds that may hold a
-- bucket), so an admission reads a few fields, not every bucket of the minute. Buckets leave in order
-- of their second: a later second's latest entry is always later.
local function recount(key, now)
  local flat = redis.call('HGETALL', key)
  local buckets, expired = {}, {}
  for i = 1, #flat, 2 do
    local field = flat[i]
    local kind, sec = string.sub(field, 1, 1), tonumber(string.sub(field, 2))
    if kind ~= '#' and sec then
      local b = buckets[sec]
      if not b then b = { 0, 0, 0 }; buckets[sec] = b end
      local value = tonumber(flat[i + 1])
      if kind == 'r' then b[1] = value elseif kind == 't' then b[2] = value else b[3] = value end
    end
  end
  local reqs, toks, lo, hi = 0, 0, nil, nil
  for sec, b in pairs(buckets) do
    if b[3] + 60000 <= now then
      expired[#expired + 1] = 'r' .. sec; expired[#expired + 1] = 't' .. sec; expired[#expired + 1] = 'l' .. sec
    else
      reqs = reqs + b[1]; toks = toks + b[2]
      if not lo or sec < lo then lo = sec end
      if not hi or sec > hi then hi = sec end
    end
  end
  if not lo then redis.call('DEL', key); return { reqs = 0, toks = 0, key = key } end
  if #expired > 0 then redis.call('HDEL', key, unpack(expired)) end
  redis.call('HSET', key, '#r', reqs, '#t', toks, '#lo', lo, '#hi', hi)
  return { reqs = reqs, toks = toks, lo = lo, hi = hi, first = buckets[lo][3], key = key }
end
local function window(scope, now)
  local key = P .. ':w:' .. scope
  local meta = redis.call('HMGET', key, '#r', '#t', '#lo', '#hi')
  if not meta[3] then return { reqs = 0, toks = 0, key = key } end
  local reqs, toks, lo, hi = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3]), tonumber(meta[4])
  -- A clock that jumped (or brokers far apart): one full pass instead of a long walk.
  if hi - lo > 180 then return recount(key, now) end
  local start, first = lo, nil
  while lo <= hi do
    local b = redis.call('HMGET', key, 'r' .. lo, 't' .. lo, 'l' .. lo)
    if b[3] then
      local last = tonumber(b[3])
      if last + 60000 > now then first = last; break end
      reqs = reqs - tonumber(b[1] or '0'); toks = toks - tonumber(b[2] or '0')
      redis.call('HDEL', key, 'r' .. lo, 't' .. lo, 'l' .. lo)
    end
    lo = lo + 1
  end
  if not first then redis.call('DEL', key); return { reqs = 0, toks = 0, key = key } end
  if lo ~= start then redis.call('HSET', key, '#r', reqs, '#t', toks, '#lo', lo) end
  return { reqs = reqs, toks = toks, lo = lo, hi = hi, first = first, key = key }
end
-- When enough of the window has left to free 'excess' (requests: which = 1, tokens: 2); refusals only.
local function freedAt(w, excess, which)
  if excess <= 0 or not w.lo then return nil end
  local sum = 0
  for sec = w.lo, w.hi do
    local b = redis.call('HMGET', w.key, 'r' .. sec, 't' .. sec, 'l' .. sec)
    if b[3] then
      sum = sum + tonumber(b[which] or '0')
      if sum >= excess then return tonumber(b[3]) + 60000 end
    end
  end
  return nil
end
local function oldestLeavesAt(w)
  if not w.first then return -1 end
  return w.first + 60000
end
-- In flight: drops expired leases, sums the live tickets' reservations (except 'skip').
local function inflight(scope, now, skip)
  local key = P .. ':if:' .. scope
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local members = redis.call('ZRANGE', key, 0, -1)
  local count, resTok, resNano, hasSkip = 0, 0, 0, false
  for _, m in ipairs(members) do
    if m == skip then
      hasSkip = true
    else
      count = count + 1
      local r = redis.call('GET', P .. ':t:' .. m)
      if r then
        local sp = string.find(r, ' ')
        resTok = resTok + tonumber(string.sub(r, 1, sp - 1))
        resNano = resNano + tonumber(string.sub(r, sp + 1))
      end
    end
  end
  return { count = count, resTok = resTok, resNano = resNano, hasSkip = hasSkip }
end
local function spend(scope, dayStart, monthStart)
  return tonumber(redis.call('GET', P .. ':sd:' .. scope .. ':' .. dayStart) or '0'), tonumber(redis.call('GET', P .. ':sm:' .. scope .. ':' .. monthStart) or '0')
end
local function addSpend(scope, dayStart, monthStart, dayNano, monthNano, dayTtl, monthTtl)
  if dayNano > 0 then
    local k = P .. ':sd:' .. scope .. ':' .. dayStart
    redis.call('INCRBY', k, dayNano); redis.call('PEXPIRE', k, dayTtl)
  end
  if monthNano > 0 then
    local k = P .. ':sm:' .. scope .. ':' .. monthStart
    redis.call('INCRBY', k, monthNano); redis.call('PEXPIRE', k, monthTtl)
  end
end
-- Counts at 'time' in its second's bucket; a bucket counts until 60 s after its latest entry (window.ts).
-- Keeps the totals; 'w', when given, is the window just read, updated to match.
local function addWindow(scope, time, reqs, toks, w)
  local key = P .. ':w:' .. scope
  local sec = math.floor(time / 1000)
  local meta = redis.call('HMGET', key, '#lo', '#hi', 'l' .. sec)
  local lo, hi, last = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3] or '0')
  redis.call('HINCRBY', key, 'r' .. sec, reqs)
  redis.call('HINCRBY', key, 't' .. sec, toks)
  redis.call('HINCRBY', key, '#r', reqs)
  redis.call('HINCRBY', key, '#t', toks)
  if time > last then redis.call('HSET', key, 'l' .. sec, time); last = time end
  if not lo or sec < lo then lo = sec; redis.call('HSET', key, '#lo', sec) end
  if not hi or sec > hi then hi = sec; redis.call('HSET', key, '#hi', sec) end
  redis.call('PEXPIRE', key, 61000)
  if w then
    w.reqs = w.reqs + reqs; w.toks = w.toks + toks
    if not w.lo or sec <= w.lo then w.first = last end
    w.lo, w.hi = lo, hi
  end
end
local function checkEpoch(epoch)
  local current = redis.call('GET', P .. ':epoch')
  if not current then return { 'rebuild' } end
  if current ~= epoch then return { 'epoch', current } end
  return nil
end
`;

/** Per scope in ARGV: key, rpm, tpm, concurrent, day limit, month limit (nano; -1 = none), day start, month start, day ttl, month ttl. */
export const SCOPE_ARGS = 10;

/**
 * admit(now, epoch, ticket, leaseMs, estTokens, estNano, oldTicket|'', scopeCount, ...scopes, oldScopeCount, ...oldScopes)
 * → {'ok', ...state per scope} | {'budget', index, 'day'|'month', ...state} | {'rate', index, limit, at, ...state}
 *   | {'rebuild'} | {'epoch', current}. State per scope: reqs, toks, resTok, resNano, day, month, inflight, oldestLeavesAt.
 */
export const ADMIT = `${PRELUDE}
local now = tonumber(ARGV[1])
local bad = checkEpoch(ARGV[2]); if bad then return bad end
local ticket, lease, estTok, estNano, old = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local n = tonumber(ARGV[8])
local sec = math.floor(now / 1000)
local scopes = {}
for i = 1, n do
  local b = 8 + (i - 1) * ${SCOPE_ARGS}
  local s = { key = ARGV[b + 1], rpm = tonumber(ARGV[b + 2]), tpm = tonumber(ARGV[b + 3]), conc = tonumber(ARGV[b + 4]),
    dayLim = tonumber(ARGV[b + 5]), monLim = tonumber(ARGV[b + 6]), dayStart = ARGV[b + 7], monStart = ARGV[b + 8] }
  s.w = window(s.key, now)
  s.f = inflight(s.key, now, old)
  s.day, s.month = spend(s.key, s.dayStart, s.monStart)
  scopes[i] = s
end
local function state(extra)
  local out = extra
  for _, s in ipairs(scopes) do
    local v = { s.w.reqs, s.w.toks, s.f.resTok, s.f.resNano, s.day, s.month, s.f.count, oldestLeavesAt(s.w) }
    for _, x in ipairs(v) do out[#out + 1] = x end
  end
  return out
end
-- Budgets first: when one is gone, retrying after a rate limit would not help.
for i, s in ipairs(scopes) do
  if s.dayLim >= 0 and not (s.day + s.f.resNano < s.dayLim) then return state({ 'budget', i, 'day' }) end
  if s.monLim >= 0 and not (s.month + s.f.resNano < s.monLim) then return state({ 'budget', i, 'month' }) end
end
-- Of several rate limits hit, name the one that frees last, so a retry then can succeed.
local worst, worstLimit, worstAt = -1, '', 0
for i, s in ipairs(scopes) do
  local added = 1
  if s.f.hasSkip then added = 0 end
  if s.rpm >= 0 and s.w.reqs + added > s.rpm then
    local at = freedAt(s.w, s.w.reqs + added - s.rpm, 1) or (now + 60000)
    if worst < 0 or at > worstAt then worst, worstLimit, worstAt = i, 'rpm', at end
  end
  if s.tpm >= 0 then
    local excess = s.w.toks + s.f.resTok + math.min(estTok, s.tpm) - s.tpm
    if excess > 0 or s.tpm <= 0 then
      local at = freedAt(s.w, excess, 2)
      if not at then local o = oldestLeavesAt(s.w); if o >= 0 then at = o else at = now + 1000 end end
      if worst < 0 or at > worstAt then worst, worstLimit, worstAt = i, 'tpm', at end
    end
  end
  if s.conc >= 0 and s.f.count + 1 > s.conc then
    local at = now + 1000
    if worst < 0 or at > worstAt then worst, worstLimit, worstAt = i, 'concurrent', at end
  end
end
if worst > 0 then return state({ 'rate', worst, worstLimit, worstAt }) end
-- Admitted: count the request, reserve in each distinct scope, replace the old ticket (a transfer).
local seen = {}
for _, s in ipairs(scopes) do
  if not seen[s.key] then
    seen[s.key] = true
    if not s.f.hasSkip then addWindow(s.key, now, 1, 0, s.w) end
    local k = P .. ':if:' .. s.key
    redis.call('ZADD', k, now + lease, ticket)
    redis.call('PEXPIRE', k, lease + 60000)
    s.f.count = s.f.count + 1
    s.f.resTok = s.f.resTok + estTok
    s.f.resNano = s.f.resNano + estNano
  end
end
if old ~= '' then
  local m = tonumber(ARGV[8 + n * ${SCOPE_ARGS} + 1])
  for j = 1, m do redis.call('ZREM', P .. ':if:' .. ARGV[8 + n * ${SCOPE_ARGS} + 1 + j], old) end
  redis.call('DEL', P .. ':t:' .. old)
end
redis.call('SET', P .. ':t:' .. ticket, estTok .. ' ' .. estNano, 'PX', lease)
return state({ 'ok' })
`;

/**
 * settle(now, epoch, ticket, tokens, nano, scopeCount, ...(key, dayStart, monthStart, dayTtl, monthTtl))
 * → {'ok'} | {'rebuild'} | {'epoch', current} (then nothing changed).
 */
export const SETTLE = `${PRELUDE}
local now = tonumber(ARGV[1])
local bad = checkEpoch(ARGV[2]); if bad then return bad end
local ticket, toks, nano, n = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local sec = math.floor(now / 1000)
local seen = {}
for i = 1, n do
  local b = 6 + (i - 1) * 5
  local key = ARGV[b + 1]
  if not seen[key] then
    seen[key] = true
    redis.call('ZREM', P .. ':if:' .. key, ticket)
    -- Tokens count from completion, as the ledger records them, so a rebuild makes the same window.
    if toks > 0 then addWindow(key, now, 0, toks, nil) end
    addSpend(key, ARGV[b + 2], ARGV[b + 3], nano, nano, tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]))
  end
end
redis.call('DEL', P .. ':t:' .. ticket)
return { 'ok' }
`;

/** release(ticket, ...scopeKeys): frees the slots and the reservation. */
export const RELEASE = `
local P = KEYS[1]
for i = 2, #ARGV do redis.call('ZREM', P .. ':if:' .. ARGV[i], ARGV[1]) end
redis.call('DEL', P .. ':t:' .. ARGV[1])
return 1
`;

/** status(now, scopeCount, ...(key, dayStart, monthStart)) → state per scope (as admit's). */
export const STATUS = `${PRELUDE}
local now = tonumber(ARGV[1])
local out = {}
for i = 1, tonumber(ARGV[2]) do
  local b = 2 + (i - 1) * 3
  local key = ARGV[b + 1]
  local w = window(key, now)
  local f = inflight(key, now, '')
  local day, month = spend(key, ARGV[b + 2], ARGV[b + 3])
  local v = { w.reqs, w.toks, f.resTok, f.resNano, day, month, f.count, oldestLeavesAt(w) }
  for _, x in ipairs(v) do out[#out + 1] = x end
end
return out
`;

/** renew(until, leaseMs, ticketCount, ...(ticket, keyCount, ...keys)): extends the leases of tickets still open. */
export const RENEW = `
local P = KEYS[1]
local untilMs, lease, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local i = 4
for _ = 1, n do
  local ticket, m = ARGV[i], tonumber(ARGV[i + 1])
  for j = 1, m do redis.call('ZADD', P .. ':if:' .. ARGV[i + 1 + j], 'XX', untilMs, ticket) end
  redis.call('PEXPIRE', P .. ':t:' .. ticket, lease)
  i = i + 2 + m
end
return 1
`;

/** heartbeat(now, instance, liveWithinMs) → {epoch or '', live instances...}. */
export const HEARTBEAT = `
local P = KEYS[1]
local now, instance, within = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
redis.call('ZADD', P .. ':brokers', now, instance)
redis.call('ZREMRANGEBYSCORE', P .. ':brokers', '-inf', now - 86400000)
local out = { redis.call('GET', P .. ':epoch') or '' }
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. ':brokers', now - within, '+inf')) do out[#out + 1] = m end
return out
`;

// Counters applied in bulk (a rebuild's, a broker's contribution, spend counted while Redis was away):
// ARGV tail: spendCount, ...(key, dayStart, monthStart, dayNano, monthNano, dayTtl, monthTtl),
//            activityCount, ...(key, time of the bucket's latest entry, requests, tokens)
const APPLY = String.raw`
local function apply(b)
  local ns = tonumber(ARGV[b])
  for i = 1, ns do
    local o = b + (i - 1) * 7
    addSpend(ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], tonumber(ARGV[o + 4]), tonumber(ARGV[o + 5]), tonumber(ARGV[o + 6]), tonumber(ARGV[o + 7]))
  end
  local a = b + ns * 7 + 1
  local na = tonumber(ARGV[a])
  for i = 1, na do
    local o = a + (i - 1) * 4
    addWindow(ARGV[o + 1], tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4]), nil)
  end
end
`;

/** establish(epoch, liveCount, ...live, ...counters): a new epoch with the central store's counters, unless one exists. */
export const ESTABLISH = `${PRELUDE}${APPLY}
local current = redis.call('GET', P .. ':epoch')
if current then return { 'exists', current } end
local epoch, nl = ARGV[1], tonumber(ARGV[2])
redis.call('SET', P .. ':epoch', epoch)
local liveKey = P .. ':ep:' .. epoch .. ':live'
redis.call('SADD', liveKey, '')
for i = 1, nl do redis.call('SADD', liveKey, ARGV[2 + i]) end
redis.call('PEXPIRE', liveKey, 3 * 86400000)
apply(3 + nl)
return { 'ok', epoch }
`;

/**
 * contribute(epoch, flagInstance|'', ...counters): adds counters to the epoch if it is still current,
 * once per instance when a flag instance is given. → {'ok'} | {'stale'} | {'done'} (added before).
 */
export const CONTRIBUTE = `${PRELUDE}${APPLY}
local current = redis.call('GET', P .. ':epoch')
if current ~= ARGV[1] then return { 'stale' } end
if ARGV[2] ~= '' then
  local flag = P .. ':ep:' .. ARGV[1] .. ':c:' .. ARGV[2]
  if not redis.call('SET', flag, '1', 'NX', 'PX', 3 * 86400000) then return { 'done' } end
end
apply(3)
return { 'ok' }
`;

/** liveOf(epoch) → the instances alive when the epoch was built. */
export const LIVE_OF = `
return redis.call('SMEMBERS', KEYS[1] .. ':ep:' .. ARGV[1] .. ':live')
`;
