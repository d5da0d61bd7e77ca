-- Argo CD health check for identity.phoneop.dev/EntraTenant.
-- Healthy: Ready=True (credentials load and Graph issued a token) for the current spec.
-- Degraded: the credentials are invalid, or Stalled=True. Progressing: anything else.
local hs = {}

local ready, stalled = nil, nil
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      ready = c
    elseif c.type == "Stalled" then
      stalled = c
    end
  end
end

local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for phoneop to check the tenant's credentials"
  return hs
end

local observed = obj.status.observedGeneration
if obj.metadata.generation ~= nil and (observed == nil or observed < obj.metadata.generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for phoneop to check generation " .. obj.metadata.generation
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
elseif ready.reason == "CredentialsInvalid" then
  hs.status = "Degraded"
else
  hs.status = "Progressing"
end
hs.message = describe(ready)
return hs
