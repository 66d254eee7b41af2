// The gRPC front end when forja was configured without protobuf (libprotobuf-dev and
// protobuf-compiler absent; scripts/setup installs them): --grpc-port is refused with what to
// install.
#include "forja/serve/server_impl.h"

namespace forja::serve {

Result<std::unique_ptr<GrpcFrontend>> StartGrpc(ModelServer::Impl*) {
  return Status::User("--grpc-port: this forja was built without gRPC; install libprotobuf-dev and protobuf-compiler "
                      "(scripts/setup does) and rebuild");
}
void GrpcAnswer(Call&, const std::vector<Tensor>&) {}
void GrpcFail(Call&, int, const std::string&) {}
const char* GrpcCodeName(int) { return "UNKNOWN"; }

}  // namespace forja::serve
