-- GET a uniformly random key per request.
-- args: <path prefix, e.g. /object/k:> <number of keys>
-- Used for GET hits (keys preloaded) and GET misses (a prefix nobody stored).
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local nkeys, get

function init(args)
   id = wrk.thread:get("id")
   seed_random()
   nkeys = tonumber(args[2] or "10000")
   get = request_maker("GET", args[1] or "/object/k:")
end

function request()
   return get(math.random(0, nkeys - 1))
end
