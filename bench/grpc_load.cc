// wrk for gRPC unary calls (bench/serving's gRPC side): THREADS threads, each with its own
// channel (its own HTTP/2 connection) and completion queue, keep CONNS calls in flight in all
// for SECONDS, each call sending the same pre-serialized message (as wrk sends one body), and
// print {"rps": ..., "p50": ms, "p99": ms, "errors": n} (errors: calls not answered OK).
// Usage: forja_grpc_load HOST:PORT /package.Service/Method MESSAGE_FILE CONNS SECONDS [THREADS]
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Call {
  grpc::ClientContext ctx;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> rpc;
  Clock::time_point start;
};

struct Result {
  std::vector<uint32_t> micros;
  uint64_t errors = 0;
};

void Worker(const std::string& target, const std::string& method, const grpc::ByteBuffer& message, int calls,
            Clock::time_point end, int id, Result* out) {
  grpc::ChannelArguments args;
  args.SetInt("forja.bench.channel", id);  // a distinct argument: a connection of its own
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  auto launch = [&] {
    auto* c = new Call;
    c->start = Clock::now();
    c->rpc = stub.PrepareUnaryCall(&c->ctx, method, message, &cq);
    c->rpc->StartCall();
    c->rpc->Finish(&c->response, &c->status, c);
  };
  for (int i = 0; i < calls; i++) launch();
  int in_flight = calls;
  void* tag;
  bool ok;
  while (in_flight > 0 && cq.Next(&tag, &ok)) {
    auto* c = static_cast<Call*>(tag);
    auto now = Clock::now();
    if (!ok || !c->status.ok()) out->errors++;
    else out->micros.push_back(static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - c->start).count()));
    delete c;
    in_flight--;
    if (now < end) {
      launch();
      in_flight++;
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s HOST:PORT /package.Service/Method MESSAGE_FILE CONNS SECONDS [THREADS]\n", argv[0]);
    return 2;
  }
  std::ifstream f(argv[3], std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string bytes = ss.str();
  if (!f) {
    std::fprintf(stderr, "cannot read %s\n", argv[3]);
    return 2;
  }
  grpc::Slice slice(bytes.data(), bytes.size());
  grpc::ByteBuffer message(&slice, 1);
  int conns = std::max(1, std::atoi(argv[4]));
  double seconds = std::atof(argv[5]);
  int threads = std::min(conns, argc > 6 ? std::max(1, std::atoi(argv[6])) : 2);
  auto start = Clock::now();
  auto end = start + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  std::vector<Result> results(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++) {
    int calls = conns / threads + (t < conns % threads ? 1 : 0);
    pool.emplace_back(Worker, std::string(argv[1]), std::string(argv[2]), std::cref(message), calls, end, t, &results[static_cast<size_t>(t)]);
  }
  for (auto& t : pool) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<uint32_t> all;
  uint64_t errors = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.micros.begin(), r.micros.end());
    errors += r.errors;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))] / 1000.0; };
  std::printf("{\"rps\": %.1f, \"p50\": %.4f, \"p99\": %.4f, \"errors\": %llu, \"calls\": %zu}\n", static_cast<double>(all.size()) / elapsed,
              pct(0.5), pct(0.99), static_cast<unsigned long long>(errors), all.size());
  return 0;
}
