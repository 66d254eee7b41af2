// Hot reload: a poller thread resolves the moving references (aliases, stages)
// every poll_interval; when one names another version, that version is loaded and
// warmed beside the old one, then swapped in; the old answers what it queued. A
// version that fails to load or warm up is refused (once per version) and the old
// keeps serving.
#include <chrono>

#include "forja/core/log.h"
#include "forja/serve/server_impl.h"

namespace forja::serve {

void ModelServer::Impl::CountReload(const std::string& model, const char* outcome) {
  std::lock_guard<std::mutex> lock(reload_mu);
  reloads[model + "|" + outcome]++;
}

void ModelServer::Impl::PollSlot(Slot& slot) {
  auto r = resolver->Resolve(slot.target.ref);
  if (!r.ok()) {
    LogWarn("serve: cannot resolve " + slot.target.ref + " (still serving " + slot.Get()->label + "): " + r.status().message());
    return;
  }
  auto old = slot.Get();
  if (r->key == old->key || r->key == slot.failed_key) return;
  LogInfo("serve: " + slot.target.ref + " moved to " + r->name + "/" + r->version + "; loading it beside " + old->label);
  auto v = Load(slot.target, *r);
  if (!v.ok()) {
    slot.failed_key = r->key;
    CountReload(old->name, "refused");
    LogError("serve: refusing " + r->name + "/" + r->version + ", still serving " + old->label + ": " + v.status().message());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(slot.mu);
    slot.current = *v;
  }
  // Requests already queued on the old version are answered by it; new ones go to the new.
  old->batcher->Stop();
  CountReload(old->name, "switched");
  LogInfo("serve: " + slot.target.ref + " now answered by " + (*v)->label + " (was " + old->label + ")");
}

void ModelServer::Impl::PollOnce() {
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
    poll_cv.wait_for(lock, std::chrono::duration<double>(cfg.poll_interval_s), [&] { return stop_poll; });
    if (stop_poll) return;
    lock.unlock();
    PollOnce();
    lock.lock();
  }
}

}  // namespace forja::serve
