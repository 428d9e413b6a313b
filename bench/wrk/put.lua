-- PUT a value of fixed size to a uniformly random key per request (overwrites).
-- args: <path prefix> <number of keys> <value bytes> <ttl seconds>
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local prefix, nkeys, body, query, headers, paths

function init(args)
   id = wrk.thread:get("id")
   seed_random()
   prefix = args[1] or "/object/k:"
   nkeys = tonumber(args[2] or "10000")
   body = string.rep("v", tonumber(args[3] or "100"))
   query = "?ttl=" .. (args[4] or "3600")
   headers = put_headers()
   paths = precompute_paths(prefix, nkeys)
end

function request()
   return wrk.format("PUT", random_path(paths, prefix, nkeys) .. query, headers, body)
end
