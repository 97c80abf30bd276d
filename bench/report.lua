-- wrk reporter for bench/api.sh: after the run, print one machine-readable line
--   BENCH requests duration_us bytes p50_us p99_us connect_err read_err write_err status_err timeout_err
-- so the shell script does not have to parse wrk's human-readable units.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
