-- Shared helpers for the bench's wrk scripts (loaded with dofile from each script).
-- Keys look like "k:0000042": seven digits after the prefix, KEY_HIGH_DIGITS + KEY_LOW_DIGITS.
--
-- A request is made from pieces built once in init: the request text before the key and its
-- first four digits (one piece per thousand keys), and its last three digits, then the rest of
-- the request (headers, body). Making one costs a single string concatenation whatever the
-- number of keys. Formatting each request with wrk.format, or keeping a table of one request
-- per key, made wrk the bottleneck at 1 M keys: its core saturated while the server's core sat
-- a third idle, so the "GET/s at 1 M objects" figure measured wrk, not the server.
KEY_HIGH_DIGITS = 4
KEY_LOW_DIGITS = 3
KEY_SPLIT = 1000 -- 10 ^ KEY_LOW_DIGITS
KEY_SPACE = 10000000 -- 10 ^ 7: every key number is below this
MARK = "\0KEY\0"
-- Requests with a body this large are built once per key and kept: building a 1 MB PUT
-- per request (a 1 MB string concatenation, then its garbage) saturated wrk's core at about
-- 850 requests/s while the server's core sat half idle. The large-value sizes use few keys
-- (bench/throughput.py: 256 at 1 MB), so the kept requests stay within a few hundred MB.
KEEP_BUILT_FROM_BYTES = 64 * 1024
thread_counter = 0

-- Give every wrk thread its own id so the random streams differ.
function setup(thread)
   thread:set("id", thread_counter)
   thread_counter = thread_counter + 1
end

function seed_random()
   math.randomseed(os.time() * 1000 + (id or 0))
end

-- A function from key number n (0 <= n < KEY_SPACE) to the whole request text of
-- `method` on prefix .. key .. suffix, as wrk.format would write it.
function request_maker(method, prefix, suffix, headers, body)
   local template = wrk.format(method, prefix .. MARK .. (suffix or ""), headers, body)
   local at = template:find(MARK, 1, true)
   local before, after = template:sub(1, at - 1), template:sub(at + #MARK)
   local heads, tails = {}, {}
   for i = 0, KEY_SPACE / KEY_SPLIT - 1 do
      heads[i] = before .. string.format("%0" .. KEY_HIGH_DIGITS .. "d", i)
   end
   for i = 0, KEY_SPLIT - 1 do
      tails[i] = string.format("%0" .. KEY_LOW_DIGITS .. "d", i)
   end
   local function build(n)
      return heads[math.floor(n / KEY_SPLIT)] .. tails[n % KEY_SPLIT] .. after
   end
   if #after < KEEP_BUILT_FROM_BYTES then
      return build
   end
   local built = {}
   return function(n)
      local request = built[n]
      if not request then
         request = build(n)
         built[n] = request
      end
      return request
   end
end

function put_headers()
   return { ["Content-Type"] = "application/octet-stream" }
end
