-- wrk script: optional rotating paths (WRK_PATHS file, one per line) and a JSON summary with p50/p95/p99.
local paths = {}
local i = 0
local file = os.getenv("WRK_PATHS")
if file then
  for line in io.lines(file) do table.insert(paths, line) end
end

request = function()
  if #paths == 0 then return wrk.format(nil) end
  i = (i % #paths) + 1
  return wrk.format(nil, paths[i])
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "rps": %.1f, "errors": %d, "p50_ms": %.1f, "p95_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f}\n',
    summary.requests, summary.requests / (summary.duration / 1000000), summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
