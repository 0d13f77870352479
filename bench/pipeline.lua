-- wrk script: HTTP/1.1 pipelining.
--
-- Each request() returns `depth` GET requests joined into one string, so wrk
-- writes them in one go and waits for all `depth` responses before the next
-- write. wrk counts every response as one request.
--
-- usage: wrk -s pipeline.lua URL -- [depth] [path]   (defaults: 16, URL's path)

local depth = 16
local batch

init = function(args)
  depth = tonumber(args[1]) or depth
  local path = args[2] or wrk.path
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format("GET", path)
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
