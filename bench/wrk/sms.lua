-- wrk script: replays pre-signed Twilio SMS webhooks (one "signature<TAB>body" per line of REQUESTS_FILE).
-- Each wrk thread replays its own slice of the file, in order, so a phone's messages keep their order.
-- RATE (requests/s over all threads, 0 = as fast as possible) paces requests on a fixed schedule.
-- Every reply is checked for a <Message> carrying the SAMHSA line; anything else counts as a bad reply.
-- At the end, the summary is written as JSON to OUT_FILE.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } timespec_t;
int clock_gettime(int clk_id, timespec_t *tp);
]]
local ts = ffi.new("timespec_t")
local function now_ms(clock)
  ffi.C.clock_gettime(clock or 1, ts) -- CLOCK_MONOTONIC, or 0: CLOCK_REALTIME
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
  table.insert(threads, thread)
end

local requests = {}
local position = 0
local interval = 0
local next_at = 0
bad = 0
replies = 0
first_at = 0 -- wall-clock ms of this thread's first request, to line the servers' logs up with the run

function init(args)
  local path = os.getenv("REQUESTS_FILE")
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  local rate = tonumber(os.getenv("RATE") or "0")
  local index = 0
  for line in io.lines(path) do
    if index % nthreads == (thread_index - 1) then
      local tab = string.find(line, "\t", 1, true)
      local signature = string.sub(line, 1, tab - 1)
      local body = string.sub(line, tab + 1)
      table.insert(requests, wrk.format("POST", "/sms", {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = signature,
      }, body))
    end
    index = index + 1
  end
  if rate > 0 then
    interval = 1000.0 * nthreads / rate
    next_at = now_ms()
  end
end

function request()
  if first_at == 0 then first_at = now_ms(0) end
  position = position % #requests + 1
  return requests[position]
end

function delay()
  if interval == 0 then return 0 end
  next_at = next_at + interval
  local wait = next_at - now_ms()
  if wait < 0 then return 0 end
  return math.floor(wait)
end

function response(status, headers, body)
  replies = replies + 1
  if status ~= 200 or not string.find(body, "<Message>", 1, true) or not string.find(body, "1-800-662-HELP", 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests_)
  local total_bad = 0
  local first = 0
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
    local at = thread:get("first_at") or 0
    if at > 0 and (first == 0 or at < first) then first = at end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local out = io.open(os.getenv("OUT_FILE"), "w")
  out:write(string.format(
    '{"requests": %d, "first_request_at_ms": %.3f, "seconds": %.3f, "rps": %.2f, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "bad_reply": %d}, ' ..
    '"latency_ms": {"mean": %.3f, "max": %.3f, "p50": %.3f, "p90": %.3f, "p95": %.3f, "p99": %.3f, "p999": %.3f}}',
    summary.requests, first, seconds, summary.requests / seconds, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout, total_bad,
    latency.mean / 1000, latency.max / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
  out:close()
end
