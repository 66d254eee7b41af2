// Hot reload: a poller thread resolves the moving references (aliases, stages)
// every poll_interval; when one names another version, that version is loaded and
// warmed beside the old one, then swapped in; the old answers what it queued. A
// version that fails to load or warm up is refused (once per version) and the old
// keeps serving.
//
// Rollouts (forja rollout): at each poll a route that follows a stage or alias asks
// the registry for the model's running rollout toward it. While one runs, its
// candidate is loaded and warmed the same way and answers the rollout's weight% of
// the route's requests (a canary); the weight follows each step; the canary is dropped
// when the rollout ends or its weight is 0. When the rollout completes the stage or
// alias names the candidate, and the route takes the canary's loaded version as its
// own. A candidate that fails to load is refused once per rollout and the route keeps
// its version. While a followed route has a running rollout the poller runs at least
// every second, so steps apply within a second.
#include <algorithm>
#include <chrono>

#include "forja/core/log.h"
#include "forja/serve/server_impl.h"

namespace forja::serve {

void ModelServer::Impl::CountReload(const std::string& model, const char* outcome) {
  std::lock_guard<std::mutex> lock(reload_mu);
  reloads[model + "|" + outcome]++;
}

// The route's reference names another version now: the rollout's canary when it is that
// version (already loaded and warm), else that version loaded beside the old one.
void ModelServer::Impl::Switch(Slot& slot, const Resolved& r, const std::shared_ptr<Version>& old) {
  std::shared_ptr<Version> next;
  if (auto c = slot.GetCanary(); c && c->version && c->version->key == r.key) {
    next = c->version;
    LogInfo("serve: " + slot.target.ref + " moved to " + r.name + "/" + r.version + ", the rollout's candidate: it takes the route");
  } else {
    LogInfo("serve: " + slot.target.ref + " moved to " + r.name + "/" + r.version + "; loading it beside " + old->label);
    auto v = Load(slot.target, r);
    if (!v.ok()) {
      slot.failed_key = r.key;
      CountReload(old->name, "refused");
      LogError("serve: refusing " + r.name + "/" + r.version + ", still serving " + old->label + ": " + v.status().message());
      return;
    }
    next = std::move(*v);
  }
  {
    std::lock_guard<std::mutex> lock(slot.mu);
    slot.current = next;
  }
  // Requests already queued on the old version are answered by it; new ones go to the new.
  // (A canary that was the old version's candidate is stopped when it is dropped, not here.)
  old->batcher->Stop();
  CountReload(old->name, "switched");
  LogInfo("serve: " + slot.target.ref + " now answered by " + next->label + " (was " + old->label + ")");
}

// Installs `next` as the route's canary (null: none). The version it replaces stops taking
// requests unless it stays on (the same version at another weight, or the route's own now).
void ModelServer::Impl::SetCanary(Slot& slot, std::shared_ptr<const Canary> next, const char* why) {
  std::shared_ptr<const Canary> prev;
  std::shared_ptr<Version> current;
  {
    std::lock_guard<std::mutex> lock(slot.mu);
    prev = std::move(slot.canary);
    slot.canary = next;
    current = slot.current;
  }
  if (next) next->version->canary = true;
  if (!prev) return;
  std::shared_ptr<Version> old = prev->version;
  if ((next && next->version == old) || old == current) {
    if (!next || next->version != old) old->canary = false;
    return;
  }
  old->canary = false;
  old->batcher->Stop();  // what it queued it answers; new requests go to the route's version
  LogInfo("serve: " + slot.target.ref + ": dropped the candidate " + old->label + " of rollout " +
          std::to_string(prev->rollout) + " (" + why + ")");
}

void ModelServer::Impl::FollowRollout(Slot& slot) {
  auto step = resolver->Rollout(slot.target.ref);
  if (!step.ok()) {
    LogWarn("serve: cannot read the rollout of " + slot.target.ref + " (keeping its traffic as it is): " +
            step.status().message());
    if (slot.GetCanary()) rollout_running = true;
    return;
  }
  if (step->id) rollout_running = true;
  auto current = slot.Get();
  auto canary = slot.GetCanary();
  std::shared_ptr<const Canary> refused;
  {
    std::lock_guard<std::mutex> lock(slot.mu);
    refused = slot.refused;
  }
  if (!step->id || step->weight <= 0 || step->version == current->version ||
      (refused && refused->rollout == step->id)) {
    if (canary)
      SetCanary(slot, nullptr,
                !step->id ? "the rollout is not running" : step->version == current->version ? "it holds the route now" : "weight 0");
    return;
  }
  if (canary && canary->rollout == step->id && canary->to == step->version) {
    if (canary->weight == step->weight) return;
    LogInfo("serve: " + slot.target.ref + ": rollout " + std::to_string(step->id) + " moves " + canary->version->label + " from " +
            std::to_string(canary->weight) + "% to " + std::to_string(step->weight) + "% of the traffic");
    SetCanary(slot, std::make_shared<const Canary>(Canary{step->id, step->weight, step->version, canary->version}), "");
    return;
  }
  // A new candidate: loaded and warmed beside the route's version before it takes a request.
  auto r = resolver->Resolve(step->ref);
  std::shared_ptr<Version> v;
  if (canary && r.ok() && canary->version->key == r->key) {
    v = canary->version;  // the same version under a new rollout
  } else {
    Result<std::shared_ptr<Version>> loaded = r.ok() ? Load(Target{slot.target.ref, 0, false}, *r) : r.status();
    if (!loaded.ok()) {
      {
        std::lock_guard<std::mutex> lock(slot.mu);
        slot.refused = std::make_shared<const Canary>(Canary{step->id, 0, step->version, nullptr});
      }
      CountReload(current->name, "refused");
      LogError("serve: refusing the candidate " + current->name + "/" + step->version + " of rollout " + std::to_string(step->id) +
               ", " + slot.target.ref + " stays on " + current->label + ": " + loaded.status().message());
      if (canary) SetCanary(slot, nullptr, "the new candidate was refused");
      return;
    }
    v = std::move(*loaded);
  }
  LogInfo("serve: " + slot.target.ref + ": rollout " + std::to_string(step->id) + " sends " + std::to_string(step->weight) +
          "% of the traffic to " + v->label + " (the rest to " + current->label + ")");
  slot.canary_turn = 0;  // a new candidate's share starts even
  SetCanary(slot, std::make_shared<const Canary>(Canary{step->id, step->weight, step->version, v}), "another rollout");
}

void ModelServer::Impl::PollSlot(Slot& slot) {
  auto r = resolver->Resolve(slot.target.ref);
  if (!r.ok()) {
    LogWarn("serve: cannot resolve " + slot.target.ref + " (still serving " + slot.Get()->label + "): " + r.status().message());
    if (slot.GetCanary()) rollout_running = true;
    return;
  }
  auto old = slot.Get();
  if (r->key != old->key && r->key != slot.failed_key) Switch(slot, *r, old);
  if (!slot.target.shadow) FollowRollout(slot);
}

void ModelServer::Impl::PollOnce() {
  rollout_running = false;
  for (const std::string& n : names) {
    Served& s = *served[n];
    for (auto& r : s.routes)
      if (r->moving) PollSlot(*r);
    if (s.shadow && s.shadow->moving) PollSlot(*s.shadow);
  }
}

void ModelServer::Impl::Poll() {
  std::unique_lock<std::mutex> lock(poll_mu);
  for (;;) {
    double wait = rollout_running ? std::min(1.0, cfg.poll_interval_s) : cfg.poll_interval_s;
    poll_cv.wait_for(lock, std::chrono::duration<double>(wait), [&] { return stop_poll; });
    if (stop_poll) return;
    lock.unlock();
    PollOnce();
    lock.lock();
  }
}

}  // namespace forja::serve
