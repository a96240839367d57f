-- wrk script: POST /ask with questions taken in turn from $BENCH_QUESTIONS (one per line),
-- counting responses by status so that 429s, 5xx and timeouts can be told apart.
local questions = {}
local file = assert(io.open(os.getenv("BENCH_QUESTIONS") or "questions.txt"))
for line in file:lines() do
  questions[#questions + 1] = line
end
file:close()

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  counter = id * 7919
  statuses = {}
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function request()
  counter = counter + 1
  local question = questions[(counter % #questions) + 1]
  local body = '{"question": ' .. json_string(question) .. ', "top_k": 3}'
  return wrk.format("POST", "/ask", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(totals) do
    parts[#parts + 1] = string.format('"%d": %d', status, count)
  end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %.3f, "rps": %.2f, "p50_ms": %.2f, "p90_ms": %.2f, '
      .. '"p99_ms": %.2f, "max_ms": %.2f, "timeouts": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.timeout, summary.errors.connect, summary.errors.read,
    table.concat(parts, ", ")))
end
