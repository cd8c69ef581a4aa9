-- Shared by the wrk scripts (dofile): counts answers that are not 200 in
-- the thread's `errors` and shows the first three on stderr.
errors = 0

function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors <= 3 then
      io.stderr:write("status " .. status .. ": " .. body .. "\n")
    end
  end
end
