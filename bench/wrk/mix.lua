-- Mixed load: GET_PERCENT % GETs and the rest PUTs, each to a uniformly random key.
-- args: <path prefix> <number of keys> <value bytes> <ttl seconds> <get percent>
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local prefix, nkeys, body, query, headers, paths, get_fraction

function init(args)
   id = wrk.thread:get("id")
   seed_random()
   prefix = args[1] or "/object/k:"
   nkeys = tonumber(args[2] or "10000")
   body = string.rep("v", tonumber(args[3] or "100"))
   query = "?ttl=" .. (args[4] or "3600")
   get_fraction = tonumber(args[5] or "90") / 100
   headers = put_headers()
   paths = precompute_paths(prefix, nkeys)
end

function request()
   local path = random_path(paths, prefix, nkeys)
   if math.random() < get_fraction then
      return wrk.format("GET", path)
   end
   return wrk.format("PUT", path .. query, headers, body)
end
