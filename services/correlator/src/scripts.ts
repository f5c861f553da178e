// Lua scripts of the correlator state: every multi-key transition runs atomically inside Redis.
//
// Keys are built inside the scripts from a prefix, so the state needs one Redis (or a Redis Cluster with
// every key in one slot via a {hash tag} prefix). Inputs are memoised under their input id so a
// redelivered message replays the first outcome instead of applying twice.

/** Shared helpers prepended to every script. */
const COMMON = `
local P = ARGV[1]
local req = cjson.decode(ARGV[2])
local function clockUpdate(cluster, ts, wall)
  local k = P .. 'clock:' .. cluster
  local cur = tonumber(redis.call('HGET', k, 'src') or '0')
  if ts > cur then redis.call('HSET', k, 'src', ts, 'wall', wall) end
  redis.call('SADD', P .. 'clusters', cluster)
end
`;

/**
 * apply: the story bookkeeping of one input (window, latest object version, replacement pairing,
 * log buffer, related events, stuck-pod indexes, source clock), memoised under the input id.
 */
export const APPLY_LUA = `${COMMON}
local marker = P .. 'in:' .. req.inputId
local memo = redis.call('GET', marker)
if memo then
  local r = cjson.decode(memo)
  r.dup = true
  return cjson.encode(r)
end
local s = req.story
local sk = P .. 'story:' .. s.storyId
-- A change whose object carries no newer timestamp happened "now" in the cluster's time.
if req.floorToClock then
  local src = tonumber(redis.call('HGET', P .. 'clock:' .. s.cluster, 'src') or '0')
  if src > req.tsMs then req.tsMs = src end
end
local res = { window = 0, opened = false, prevWindow = -1, rolledFrom = -1, stale = false, dup = false, tsMs = req.tsMs }
local curWindow = redis.call('HGET', sk, 'window')
local window = tonumber(curWindow or '0')
local entries = tonumber(redis.call('HGET', sk, 'entries') or '0')
local closed = redis.call('HGET', sk, 'closed') == '1'
if not curWindow then
  window = 0
  entries = 0
  res.opened = true
  redis.call('HSET', sk, 'tenant', s.tenant, 'cluster', s.cluster, 'namespace', s.namespace,
    'rootKind', s.rootKind, 'rootName', s.rootName, 'rootApiVersion', s.rootApiVersion, 'rootUid', s.rootUid,
    'openedMs', req.tsMs)
elseif closed then
  res.prevWindow = window
  window = window + 1
  entries = 0
  res.opened = true
  redis.call('HSET', sk, 'openedMs', req.tsMs, 'closed', '0')
elseif entries + req.n > req.maxEntries and entries > 0 then
  res.rolledFrom = window
  res.prevWindow = window
  window = window + 1
  entries = 0
  res.opened = true
  redis.call('HSET', sk, 'openedMs', req.tsMs)
end
if s.rootUid ~= '' then redis.call('HSET', sk, 'rootUid', s.rootUid) end
entries = entries + req.n
local last = tonumber(redis.call('HGET', sk, 'lastMs') or '0')
if req.tsMs > last then last = req.tsMs end
redis.call('HSET', sk, 'window', window, 'entries', entries, 'lastMs', last)
redis.call('ZADD', P .. 'idle:' .. s.cluster, last, s.storyId)
res.window = window

if req.root == 'deleted' then
  redis.call('HSET', sk, 'rootDeletedMs', req.tsMs)
  redis.call('ZADD', P .. 'closing:' .. s.cluster, req.tsMs + req.graceMs, s.storyId)
elseif req.root == 'alive' then
  redis.call('HDEL', sk, 'rootDeletedMs')
  redis.call('ZREM', P .. 'closing:' .. s.cluster, s.storyId)
end

if req.obj then
  local o = req.obj
  local ok = P .. 'obj:' .. s.cluster .. ':' .. o.uid
  local prevRv = redis.call('HGET', ok, 'rv')
  if prevRv then res.prevRv = prevRv end
  -- The previous version is the newest one OLDER than this input, from a short history: replicas may
  -- handle versions of one object out of order, and each must still be compared with its predecessor.
  local vz = ok .. ':vz'
  local vh = ok .. ':vh'
  local rvn = tonumber(o.rv)
  local prevJson = nil
  if rvn then
    local before = redis.call('ZREVRANGEBYSCORE', vz, '(' .. o.rv, '-inf', 'LIMIT', 0, 1)
    if before[1] then prevJson = redis.call('HGET', vh, before[1]) end
    if not prevJson and prevRv and tonumber(prevRv) and tonumber(prevRv) < rvn then prevJson = redis.call('HGET', ok, 'json') end
    redis.call('ZADD', vz, rvn, o.rv)
    redis.call('HSET', vh, o.rv, o.json)
    local n = redis.call('ZCARD', vz)
    if n > req.historyKeep then
      local old = redis.call('ZRANGE', vz, 0, n - req.historyKeep - 1)
      for _, v in ipairs(old) do redis.call('HDEL', vh, v) end
      redis.call('ZREMRANGEBYRANK', vz, 0, n - req.historyKeep - 1)
    end
    redis.call('PEXPIRE', vz, req.historyTtlMs)
    redis.call('PEXPIRE', vh, req.historyTtlMs)
  else
    prevJson = redis.call('HGET', ok, 'json')
  end
  if prevJson then res.prevJson = prevJson end
  local newer = true
  if prevRv and tonumber(prevRv) and tonumber(o.rv) then newer = tonumber(o.rv) >= tonumber(prevRv) end
  if not newer then
    res.stale = true
  else
    redis.call('HSET', ok, 'rv', o.rv, 'json', o.json, 'kind', o.kind, 'name', o.name, 'storyId', s.storyId,
      'deleted', o.deleted and '1' or '0')
    redis.call('PEXPIRE', ok, o.deleted and req.deletedTtlMs or req.objTtlMs)
    if o.kind == 'Pod' then
      local gl = P .. 'gone:' .. s.storyId
      local member = o.uid .. '|' .. o.name .. '|' .. req.tsMs
      if o.gone and redis.call('HGET', ok, 'gone') ~= '1' then
        redis.call('HSET', ok, 'gone', '1')
        redis.call('RPUSH', gl, member)
        redis.call('LTRIM', gl, -50, -1)
        redis.call('PEXPIRE', gl, req.objTtlMs)
      elseif not prevRv and not o.gone then
        -- a pod seen for the first time takes the place of a gone pod: same name first, else the oldest
        local items = redis.call('LRANGE', gl, 0, -1)
        local pick = nil
        for _, it in ipairs(items) do
          local u, n, t = string.match(it, '^([^|]*)|([^|]*)|([^|]*)$')
          if n == o.name and u ~= o.uid then pick = it break end
        end
        if not pick then
          for _, it in ipairs(items) do
            local u, n, t = string.match(it, '^([^|]*)|([^|]*)|([^|]*)$')
            if u ~= o.uid and tonumber(t) >= req.tsMs - req.replaceWindowMs then pick = it break end
          end
        end
        if pick then
          redis.call('LREM', gl, 1, pick)
          local u, n = string.match(pick, '^([^|]*)|([^|]*)|')
          res.replaces = { uid = u, name = n }
        end
      end
      local pend = P .. 'pending:' .. s.cluster
      local term = P .. 'terminating:' .. s.cluster
      local member2 = s.storyId .. '|' .. o.uid
      if o.deleted then
        redis.call('ZREM', pend, member2)
        redis.call('ZREM', term, member2)
      else
        if o.pendingSinceMs then redis.call('ZADD', pend, o.pendingSinceMs, member2) else redis.call('ZREM', pend, member2) end
        if o.terminatingSinceMs then redis.call('ZADD', term, o.terminatingSinceMs, member2) else redis.call('ZREM', term, member2) end
      end
    end
  end
end

if req.log then
  local lk = P .. 'log:' .. s.cluster .. ':' .. req.log.key
  -- The lines are ARGV[3..] (oldest first); LPUSH of several values leaves the newest at the head.
  for i = 3, #ARGV, 1000 do redis.call('LPUSH', lk, unpack(ARGV, i, math.min(i + 999, #ARGV))) end
  for _, line in ipairs(req.log.lines) do redis.call('LPUSH', lk, line) end
  redis.call('LTRIM', lk, 0, req.log.limit - 1)
  redis.call('PEXPIRE', lk, req.log.ttlMs)
  if req.log.endOfStream then redis.call('SET', lk .. ':eos', '1', 'PX', req.log.ttlMs) end
end

if req.event then
  local ez = P .. 'evz:' .. s.storyId
  local eh = P .. 'evh:' .. s.storyId
  local cur = redis.call('ZSCORE', ez, req.event.uid)
  if (not cur) or tonumber(cur) <= req.event.scoreMs then
    redis.call('ZADD', ez, req.event.scoreMs, req.event.uid)
    redis.call('HSET', eh, req.event.uid, req.event.json)
  end
  local n = redis.call('ZCARD', ez)
  if n > req.event.keep then
    local old = redis.call('ZRANGE', ez, 0, n - req.event.keep - 1)
    for _, u in ipairs(old) do redis.call('HDEL', eh, u) end
    redis.call('ZREMRANGEBYRANK', ez, 0, n - req.event.keep - 1)
  end
  redis.call('PEXPIRE', ez, req.objTtlMs)
  redis.call('PEXPIRE', eh, req.objTtlMs)
end

-- Only Kubernetes timestamps move the cluster's clock (a watcher's wall-clock fallback must not).
if req.sourceTime then clockUpdate(s.cluster, req.tsMs, req.wallMs) end
redis.call('PEXPIRE', sk, req.objTtlMs)
redis.call('SET', marker, cjson.encode(res), 'PX', req.markerTtlMs)
return cjson.encode(res)
`;

/** recordChange: keeps the last N diffs of a story, keyed by input id so a replay overwrites itself. */
export const RECORD_CHANGE_LUA = `${COMMON}
local cz = P .. 'chgz:' .. req.storyId
local ch = P .. 'chgh:' .. req.storyId
redis.call('ZADD', cz, req.tsMs, req.inputId)
redis.call('HSET', ch, req.inputId, req.json)
local n = redis.call('ZCARD', cz)
if n > req.keep then
  local old = redis.call('ZRANGE', cz, 0, n - req.keep - 1)
  for _, u in ipairs(old) do redis.call('HDEL', ch, u) end
  redis.call('ZREMRANGEBYRANK', cz, 0, n - req.keep - 1)
end
redis.call('PEXPIRE', cz, req.ttlMs)
redis.call('PEXPIRE', ch, req.ttlMs)
return n
`;

/**
 * debounce: counts one failure occurrence per (story, container, reason) in source time. The first
 * occurrence opens an episode (a new incident, its window end queued in due:<cluster>); later ones inside
 * the window are repeats. An occurrence id seen before replays its first outcome.
 */
export const DEBOUNCE_LUA = `${COMMON}
local occ = P .. 'occ:' .. req.storyId .. ':' .. req.occurrenceId
local memo = redis.call('GET', occ)
if memo then
  local r = cjson.decode(memo)
  r.dup = true
  return cjson.encode(r)
end
local dk = P .. 'deb:' .. req.storyId .. ':' .. req.container .. ':' .. req.reason
local res = { dup = false }
local incId = redis.call('HGET', dk, 'incidentId')
local firstMs = tonumber(redis.call('HGET', dk, 'firstMs') or '0')
local endMs = tonumber(redis.call('HGET', dk, 'endMs') or '0')
if incId and req.tsMs < endMs and req.tsMs >= firstMs - req.windowMs then
  local ik = P .. 'inc:' .. incId
  local count = redis.call('HINCRBY', ik, 'count', 1)
  local lastMs = tonumber(redis.call('HGET', ik, 'lastMs') or '0')
  if req.tsMs > lastMs then
    redis.call('HSET', ik, 'lastMs', req.tsMs, 'last', req.detection)
  end
  res.kind = 'repeat'
  res.incidentId = incId
  res.count = count
else
  incId = req.incidentId
  local ik = P .. 'inc:' .. incId
  redis.call('HSET', dk, 'incidentId', incId, 'firstMs', req.tsMs, 'endMs', req.tsMs + req.windowMs)
  redis.call('PEXPIRE', dk, req.ttlMs)
  redis.call('HSET', ik, 'count', 1, 'firstMs', req.tsMs, 'lastMs', req.tsMs, 'first', req.detection,
    'last', req.detection, 'storyId', req.storyId, 'cluster', req.cluster, 'context', req.context)
  redis.call('PEXPIRE', ik, req.ttlMs)
  redis.call('ZADD', P .. 'due:' .. req.cluster, req.tsMs + req.windowMs, incId)
  res.kind = 'new'
  res.incidentId = incId
  res.count = 1
end
clockUpdate(req.cluster, req.tsMs, req.wallMs)
redis.call('SET', occ, cjson.encode(res), 'PX', req.ttlMs)
return cjson.encode(res)
`;

/**
 * promote: moves what became due in source time into the outbox — ended debounce windows that saw
 * repeats (an incident update) and stories idle too long or whose root was deleted past the grace
 * period (a close). The source clock advances with wall time while the cluster is quiet, so windows
 * still end when nothing happens. Whichever replica runs it first moves each item exactly once.
 */
export const PROMOTE_LUA = `${COMMON}
local out = 0
local clusters = redis.call('SMEMBERS', P .. 'clusters')
for _, c in ipairs(clusters) do
  local ck = P .. 'clock:' .. c
  local src = tonumber(redis.call('HGET', ck, 'src') or '0')
  local wall = tonumber(redis.call('HGET', ck, 'wall') or '0')
  local now = src
  if wall > 0 and req.wallMs > wall then now = src + (req.wallMs - wall) end
  local dz = P .. 'due:' .. c
  for _, incId in ipairs(redis.call('ZRANGEBYSCORE', dz, '-inf', now, 'LIMIT', 0, req.limit)) do
    redis.call('ZREM', dz, incId)
    local ik = P .. 'inc:' .. incId
    local count = tonumber(redis.call('HGET', ik, 'count') or '0')
    if count > 1 then
      redis.call('ZADD', P .. 'outbox', req.wallMs, cjson.encode({ type = 'update', incidentId = incId, count = count }))
      out = out + 1
    end
  end
  local function close(storyId, why)
    local sk = P .. 'story:' .. storyId
    if redis.call('EXISTS', sk) == 1 and redis.call('HGET', sk, 'closed') ~= '1' then
      local w = tonumber(redis.call('HGET', sk, 'window'))
      redis.call('HSET', sk, 'closed', '1')
      local h = redis.call('HMGET', sk, 'tenant', 'cluster', 'namespace', 'rootKind', 'rootName', 'rootApiVersion', 'rootUid', 'lastMs')
      redis.call('ZADD', P .. 'outbox', req.wallMs, cjson.encode({ type = 'close', storyId = storyId, window = w, why = why,
        tenant = h[1], cluster = h[2], namespace = h[3], rootKind = h[4], rootName = h[5], rootApiVersion = h[6], rootUid = h[7],
        lastMs = tonumber(h[8]) or 0 }))
      out = out + 1
    end
    redis.call('ZREM', P .. 'idle:' .. c, storyId)
    redis.call('ZREM', P .. 'closing:' .. c, storyId)
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'closing:' .. c, '-inf', now, 'LIMIT', 0, req.limit)) do close(id, 'root-deleted') end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'idle:' .. c, '-inf', now - req.idleMs, 'LIMIT', 0, req.limit)) do close(id, 'idle') end
end
return out
`;

/** lease: takes up to `limit` outbox items whose lease expired and leases them for `leaseMs` of wall time. */
export const LEASE_LUA = `${COMMON}
local ob = P .. 'outbox'
local items = redis.call('ZRANGEBYSCORE', ob, '-inf', req.wallMs, 'LIMIT', 0, req.limit)
for _, it in ipairs(items) do redis.call('ZADD', ob, req.wallMs + req.leaseMs, it) end
return items
`;
