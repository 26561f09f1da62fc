-- wrk script: POST /process with {"delay": BENCH_DELAY}, and a JSON summary line when the run is done.
-- The summary counts answers by status code across threads, so a 503 is never mistaken for a success,
-- and keeps the first body of each failing status, so the JSON says why it failed.

wrk.method = "POST"
wrk.path = "/process"
wrk.headers["Content-Type"] = "application/json"
wrk.body = string.format('{"delay": %s}', os.getenv("BENCH_DELAY") or "0")

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
   failures = {}
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status >= 400 and failures[status] == nil then
      failures[status] = string.sub(body or "", 1, 300)
   end
end

local function quoted(text)
   return '"' .. string.gsub(text, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
   local counts, bodies = {}, {}
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         counts[status] = (counts[status] or 0) + count
      end
      for status, body in pairs(thread:get("failures")) do
         bodies[status] = bodies[status] or body
      end
   end
   local status_fields, body_fields = {}, {}
   for status, count in pairs(counts) do
      table.insert(status_fields, string.format('"%d": %d', status, count))
   end
   for status, body in pairs(bodies) do
      table.insert(body_fields, string.format('"%d": %s', status, quoted(body)))
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "latency_us": {"p50": %d, "p90": %d, "p99": %d, ' ..
      '"max": %d, "mean": %.1f}, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
      '"timeout": %d}, "statuses": {%s}, "failure_bodies": {%s}}\n',
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      table.concat(status_fields, ", "), table.concat(body_fields, ", ")))
end
