-- Argo CD health check for identity.phoneop.dev/PhoneAuthMethod.
-- Healthy: Ready=True for the current spec. Degraded: Stalled=True (a person must act:
-- Conflict, Forbidden, InvalidNumber, ...). Suspended: ObserveOnly found differences
-- (status.plannedActions; phoneop never writes), or the object is paused (phoneop.dev/paused).
-- Progressing: anything else phoneop is still working on, including a spec it has not
-- reconciled yet.
local hs = {}

local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then
      return c
    end
  end
  return nil
end

-- A condition written for an older spec says nothing about the current one.
local function current(c)
  local gen = obj.metadata.generation
  if gen == nil then
    return true
  end
  local seen = c.observedGeneration
  if seen == nil and obj.status ~= nil then
    seen = obj.status.observedGeneration
  end
  return seen ~= nil and seen >= gen
end

local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason
end

-- Paused (phoneop.dev/paused on the object or its EntraTenant): phoneop makes no Graph call, so
-- the object is neither progressing nor failed.
local synced = condition("Synced")
if synced ~= nil and synced.status == "False" and synced.reason == "Paused" then
  hs.status = "Suspended"
  hs.message = describe(synced)
  return hs
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" and current(stalled) then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

local ready = condition("Ready")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for phoneop to reconcile the object"
  return hs
end

local observed = obj.status.observedGeneration
if obj.metadata.generation ~= nil and (observed == nil or observed < obj.metadata.generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for phoneop to reconcile generation " .. obj.metadata.generation .. " (" .. describe(ready) .. ")"
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
elseif ready.reason == "Planned" then
  hs.status = "Suspended"
  hs.message = describe(ready)
else
  hs.status = "Progressing"
  hs.message = describe(ready)
end
return hs
