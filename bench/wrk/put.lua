-- PUT a value of fixed size to a uniformly random key per request (overwrites).
-- args: <path prefix> <number of keys> <value bytes> <ttl seconds>
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local nkeys, put

function init(args)
   id = wrk.thread:get("id")
   seed_random()
   nkeys = tonumber(args[2] or "10000")
   local body = string.rep("v", tonumber(args[3] or "100"))
   local query = "?ttl=" .. (args[4] or "3600")
   put = request_maker("PUT", args[1] or "/object/k:", query, put_headers(), body)
end

function request()
   return put(math.random(0, nkeys - 1))
end
