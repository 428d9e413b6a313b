-- GET a uniformly random key per request.
-- args: <path prefix, e.g. /object/k:> <number of keys>
-- Used for GET hits (keys preloaded) and GET misses (a prefix nobody stored).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local prefix, nkeys, paths

function init(args)
   id = wrk.thread:get("id")
   seed_random()
   prefix = args[1] or "/object/k:"
   nkeys = tonumber(args[2] or "10000")
   paths = precompute_paths(prefix, nkeys)
end

function request()
   return wrk.format("GET", random_path(paths, prefix, nkeys))
end
