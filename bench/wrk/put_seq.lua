-- PUT to sequential, never-repeated keys: every request stores a new key.
-- args: <path prefix> <first key number> <value bytes> <ttl seconds>
-- Keys wrap around after KEY_SPACE so they stay 7 digits.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

local KEY_SPACE = 10000000
local prefix, next_key, body, query, headers

function init(args)
   id = wrk.thread:get("id")
   prefix = args[1] or "/object/k:"
   next_key = tonumber(args[2] or "0")
   body = string.rep("v", tonumber(args[3] or "100"))
   query = "?ttl=" .. (args[4] or "3600")
   headers = put_headers()
end

function request()
   local path = key_path(prefix, next_key % KEY_SPACE) .. query
   next_key = next_key + 1
   return wrk.format("PUT", path, headers, body)
end
