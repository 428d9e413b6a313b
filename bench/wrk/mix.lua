-- Mixed load: GET_PERCENT % GETs and the rest PUTs, each to a uniformly random key.
-- args: <path prefix> <number of keys> <value bytes> <ttl seconds> <get percent>
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local nkeys, get, put, get_fraction

function init(args)
   id = wrk.thread:get("id")
   seed_random()
   local prefix = args[1] or "/object/k:"
   nkeys = tonumber(args[2] or "10000")
   local body = string.rep("v", tonumber(args[3] or "100"))
   local query = "?ttl=" .. (args[4] or "3600")
   get_fraction = tonumber(args[5] or "90") / 100
   get = request_maker("GET", prefix)
   put = request_maker("PUT", prefix, query, put_headers(), body)
end

function request()
   local n = math.random(0, nkeys - 1)
   if math.random() < get_fraction then
      return get(n)
   end
   return put(n)
end
