-- Argo CD health of a startupfactory.dev Startup. The operator writes the kstatus summary
-- (Ready, Reconciling, Stalled) for the generation it observed; Argo CD reads none of it
-- by itself. Kept to Lua 5.1 (Argo CD runs gopher-lua).
local hs = { status = "Progressing", message = "waiting for the operator to observe this Startup" }
if obj.status == nil then
  return hs
end

local function condition(type)
  if obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

-- A status written for an older generation says nothing about the spec Argo CD just applied.
local generation = obj.metadata.generation or 0
if (obj.status.observedGeneration or 0) < generation then
  hs.message = "waiting for the operator to observe generation " .. generation
  return hs
end

local phase = obj.status.phase or ""
local ready = condition("Ready")
local stalled = condition("Stalled")
local budget = condition("BudgetExceeded")

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "pipeline succeeded"
elseif phase == "Failed" or (stalled ~= nil and stalled.status == "True") then
  -- Stalled means only a change elsewhere helps (a task failed for good, no Ready
  -- provider, no free node ports, an invalid template): nothing will heal by itself.
  hs.status = "Degraded"
  if stalled ~= nil and stalled.status == "True" then
    hs.message = (stalled.reason or "Stalled") .. ": " .. (stalled.message or "")
  else
    hs.message = "phase " .. phase
  end
elseif phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = "suspended by spec.suspend"
elseif budget ~= nil and budget.status == "True" then
  -- A budget that ran out pauses the pipeline until its window resets, by itself: a wait
  -- for an outside event (the clock), not a fault anyone has to fix.
  hs.status = "Suspended"
  hs.message = (budget.message or "budget exceeded")
elseif ready ~= nil then
  hs.message = "phase " .. phase .. ": " .. (ready.message or ready.reason or "")
else
  hs.message = "phase " .. phase
end
return hs
