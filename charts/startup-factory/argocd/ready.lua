-- Argo CD health of a startupfactory.dev AIProvider or StartupTemplate: both carry one
-- Ready condition (a provider whose API key resolves; a template whose every file renders)
-- for the generation they observed. Kept to Lua 5.1 (Argo CD runs gopher-lua).
local hs = { status = "Progressing", message = "waiting for the operator to check this " .. obj.kind }
if obj.status == nil or obj.status.conditions == nil then
  return hs
end

local generation = obj.metadata.generation or 0
if (obj.status.observedGeneration or 0) < generation then
  hs.message = "waiting for the operator to check generation " .. generation
  return hs
end

for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    -- Not Ready waits for a change elsewhere (a Secret with the key, an edit to the
    -- template), so it is Degraded, not Progressing.
    if c.status == "True" then
      hs.status = "Healthy"
    else
      hs.status = "Degraded"
    end
    hs.message = (c.reason or "") .. ": " .. (c.message or "")
    return hs
  end
end
return hs
