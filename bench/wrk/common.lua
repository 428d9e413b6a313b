-- Shared helpers for the bench's wrk scripts (loaded with dofile from each script).
-- Keys look like "k:0000042": KEY_FORMAT is the printf format after the prefix.
KEY_FORMAT = "%07d"
PRECOMPUTE_MAX_KEYS = 200000 -- above this, paths are formatted per request
thread_counter = 0

-- Give every wrk thread its own id so the random streams differ.
function setup(thread)
   thread:set("id", thread_counter)
   thread_counter = thread_counter + 1
end

function seed_random()
   math.randomseed(os.time() * 1000 + (id or 0))
end

-- Path of key number n.
function key_path(prefix, n)
   return prefix .. string.format(KEY_FORMAT, n)
end

-- A table of the paths of keys 0..nkeys-1, or nil when that would be too big.
function precompute_paths(prefix, nkeys)
   if nkeys > PRECOMPUTE_MAX_KEYS then
      return nil
   end
   local paths = {}
   for n = 0, nkeys - 1 do
      paths[n + 1] = key_path(prefix, n)
   end
   return paths
end

-- Path of a uniformly random key in 0..nkeys-1.
function random_path(paths, prefix, nkeys)
   if paths then
      return paths[math.random(1, nkeys)]
   end
   return key_path(prefix, math.random(0, nkeys - 1))
end

function put_headers()
   return { ["Content-Type"] = "application/octet-stream" }
end
