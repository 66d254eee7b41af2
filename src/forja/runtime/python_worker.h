// The program every python worker runs. The command line carries only a short
// bootstrap (python -B -c kPythonBootstrap ...), so that ps stays readable: it
// reads the program from fd 3 (u64 length, text) and runs it. The argv: worker
// number, package dir, module, function, then a name and a datatype ("" = as
// returned) per signature output. The program speaks python_frame.h on fd 3;
// fds 1 and 2 are a pipe forja copies to its stderr (python_output.h).
#pragma once

namespace forja::runtime {

extern const char* const kPythonBootstrap;
extern const char* const kPythonWorkerProgram;

}  // namespace forja::runtime
