-- PUT to sequential, never-repeated keys: every request stores a new key.
-- args: <path prefix> <first key number> <value bytes> <ttl seconds>
-- Keys wrap around after KEY_SPACE so they stay 7 digits.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local next_key, put

function init(args)
   id = wrk.thread:get("id")
   next_key = tonumber(args[2] or "0")
   local body = string.rep("v", tonumber(args[3] or "100"))
   local query = "?ttl=" .. (args[4] or "3600")
   put = request_maker("PUT", args[1] or "/object/k:", query, put_headers(), body)
end

function request()
   local request = put(next_key % KEY_SPACE)
   next_key = next_key + 1
   return request
end
