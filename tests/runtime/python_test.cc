// The python runtime against the project's virtualenv ($FORJA_PYTHON): packages
// are written to a temp dir by each test; skipped when there is no python.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <thread>

#include "forja/core/fs.h"
#include "forja/core/subprocess.h"
#include "forja/runtime/python_model.h"

namespace forja::runtime {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/forja-python-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveTree(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Python() {
  const char* p = std::getenv("FORJA_PYTHON");
  return p != nullptr && ::access(p, X_OK) == 0 ? p : "";
}

#define SKIP_WITHOUT_PYTHON() \
  if (Python().empty()) GTEST_SKIP() << "FORJA_PYTHON is unset or not executable"

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

ModelSpec Spec(const std::string& dir, std::vector<TensorSpec> inputs, std::vector<TensorSpec> outputs) {
  ModelSpec s;
  s.dir = dir;
  s.flavor = "python";
  s.python_module = "predict.py";
  s.python_function = "predict";
  s.inputs = std::move(inputs);
  s.outputs = std::move(outputs);
  s.workers = 1;
  return s;
}

template <typename T>
Tensor Make(const std::string& name, const std::string& dt, std::vector<int64_t> shape, const std::vector<T>& v) {
  Tensor t{name, dt, std::move(shape), std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T))};
  return t;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  std::vector<T> v(t.data.size() / sizeof(T));
  std::memcpy(v.data(), t.data.data(), v.size() * sizeof(T));
  return v;
}

Tensor Bytes(const std::string& name, const std::vector<std::string>& items) {
  Tensor t{name, "BYTES", {static_cast<int64_t>(items.size())}, ""};
  for (const std::string& s : items) {
    uint32_t n = static_cast<uint32_t>(s.size());
    t.data.append(reinterpret_cast<const char*>(&n), 4);
    t.data += s;
  }
  return t;
}

std::vector<std::string> Strings(const Tensor& t) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos + 4 <= t.data.size();) {
    uint32_t n;
    std::memcpy(&n, t.data.data() + pos, 4);
    out.push_back(t.data.substr(pos + 4, n));
    pos += 4 + n;
  }
  return out;
}

// A batch x of `rows` x 4 floats starting at `first`.
Tensor Features(int rows, float first) {
  std::vector<float> v;
  for (int i = 0; i < rows * 4; i++) v.push_back(first + static_cast<float>(i) * 0.5f);
  return Make("x", "FP32", {rows, 4}, v);
}

std::unique_ptr<Model> LoadOrDie(const ModelSpec& spec) {
  auto m = LoadPythonModel(spec);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(*m) : nullptr;
}

const std::vector<TensorSpec> kX = {{"x", "FP32", {-1, 4}}};

TEST(PythonRuntime, NumpyPredictMatchesAndRoundTripIsCheap) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py",
        "import numpy as np\n"
        "def predict(batch):\n"
        "    print('printing must not break the protocol')\n"
        "    return batch['x'].sum(axis=1) * 2 + 1\n");
  auto model = LoadOrDie(Spec(d.path(), kX, {{"y", "FP32", {-1}}}));
  ASSERT_NE(model, nullptr);
  EXPECT_NE(model->Describe().find("python 3."), std::string::npos) << model->Describe();

  std::vector<Tensor> out;
  Tensor x = Features(64, -3);
  ASSERT_TRUE(model->Predict({x}, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "y");
  EXPECT_EQ(out[0].datatype, "FP32");
  EXPECT_EQ(out[0].shape, std::vector<int64_t>{64});
  std::vector<float> xs = Values<float>(x), ys = Values<float>(out[0]);
  for (int r = 0; r < 64; r++) {
    float sum = xs[r * 4] + xs[r * 4 + 1] + xs[r * 4 + 2] + xs[r * 4 + 3];
    EXPECT_FLOAT_EQ(ys[r], sum * 2 + 1) << r;
  }

  // The cost of one round trip (a number for the record, not an assertion).
  Write(d.path() + "/quiet.py", "def predict(batch):\n    return batch['x'].sum(axis=1)\n");
  ModelSpec quiet = Spec(d.path(), kX, {{"y", "FP32", {-1}}});
  quiet.python_module = "quiet.py";
  auto fast = LoadOrDie(quiet);
  ASSERT_NE(fast, nullptr);
  constexpr int kCalls = 2000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; i++) ASSERT_TRUE(fast->Predict({x}, &out).ok());
  double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kCalls;
  std::printf("python runtime: 64-row FP32 batch round trip %.1f us\n", us);
  RecordProperty("round_trip_us", std::to_string(us));
}

TEST(PythonRuntime, DictGivesSeveralOutputsInSignatureOrder) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py",
        "import numpy as np\n"
        "def predict(batch):\n"
        "    x = batch['x']\n"
        "    return {'sum': x.sum(axis=1), 'label': (x[:, 0] > 0).astype(np.int32)}\n");
  // sum is float32 in python, declared FP64: converted; label int32 -> INT64.
  auto model = LoadOrDie(Spec(d.path(), kX, {{"label", "INT64", {-1}}, {"sum", "FP64", {-1}}}));
  ASSERT_NE(model, nullptr);
  std::vector<Tensor> out;
  ASSERT_TRUE(model->Predict({Features(3, -1)}, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "label");
  EXPECT_EQ(out[0].datatype, "INT64");
  EXPECT_EQ(Values<int64_t>(out[0]), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(out[1].name, "sum");
  EXPECT_EQ(out[1].datatype, "FP64");
  EXPECT_EQ(Values<double>(out[1]), (std::vector<double>{-1, 7, 15}));
}

TEST(PythonRuntime, BytesInputAndOutput) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py",
        "import numpy as np\n"
        "def predict(batch):\n"
        "    s = batch['s']\n"
        "    assert s.dtype == object and isinstance(s[0], bytes)\n"
        "    return {'n': np.array([len(b) for b in s]), 'upper': [b.upper() for b in s]}\n");
  auto model = LoadOrDie(Spec(d.path(), {{"s", "BYTES", {-1}}}, {{"n", "INT64", {-1}}, {"upper", "BYTES", {-1}}}));
  ASSERT_NE(model, nullptr);
  std::vector<Tensor> out;
  ASSERT_TRUE(model->Predict({Bytes("s", {"abc", "", std::string("x\0y", 3)})}, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Values<int64_t>(out[0]), (std::vector<int64_t>{3, 0, 3}));
  EXPECT_EQ(Strings(out[1]), (std::vector<std::string>{"ABC", "", std::string("X\0Y", 3)}));
}

TEST(PythonRuntime, DottedModuleAndFunctionName) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  ASSERT_TRUE(MakeDirs(d.path() + "/serving").ok());
  Write(d.path() + "/serving/__init__.py", "");
  Write(d.path() + "/serving/helpers.py", "def double(a):\n    return a * 2\n");
  Write(d.path() + "/serving/model.py",
        "from serving.helpers import double\n"
        "def score(batch):\n"
        "    return double(batch['x'][:, 0])\n");
  ModelSpec spec = Spec(d.path(), kX, {{"y", "FP32", {-1}}});
  spec.python_module = "serving.model";
  spec.python_function = "score";
  spec.workers = 0;  // one per core
  auto model = LoadOrDie(spec);
  ASSERT_NE(model, nullptr);
  EXPECT_NE(model->Describe().find("serving.model:score"), std::string::npos) << model->Describe();
  std::vector<Tensor> out;
  ASSERT_TRUE(model->Predict({Features(2, 1)}, &out).ok());
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{2, 6}));
}

TEST(PythonRuntime, PandasOutputAndBadOutputs) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py",
        "import numpy as np, pandas as pd\n"
        "def predict(batch):\n"
        "    x = batch['x']\n"
        "    mode = int(x[0, 0])\n"
        "    if mode == 0: return pd.Series(x[:, 1] * 10)\n"
        "    if mode == 1: return x[:1, 0]\n"
        "    if mode == 2: return np.array(['a'] * len(x))\n"
        "    return (x[:, 0] * 1.5).astype(np.float64)\n");
  auto model = LoadOrDie(Spec(d.path(), kX, {{"y", "FP32", {-1}}}));
  ASSERT_NE(model, nullptr);
  std::vector<Tensor> out;
  ASSERT_TRUE(model->Predict({Features(2, 0)}, &out).ok());
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{5, 25}));

  Status st = model->Predict({Features(2, 1)}, &out);
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("returned 1 rows for output 'y', the batch has 2"), std::string::npos) << st.message();

  st = model->Predict({Features(2, 2)}, &out);
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("output 'y' is <U1, which does not convert to FP32"), std::string::npos) << st.message();

  // float64 -> FP32 is a precision change, which is fine.
  ASSERT_TRUE(model->Predict({Features(2, 3)}, &out).ok());
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{4.5f, 7.5f}));
}

// A model trained and pickled by the venv python, unpickled in load(), whose
// state predict receives as its second argument.
TEST(PythonRuntime, ScikitLearnModelServedThroughLoad) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/train.py",
        "import pickle, numpy as np\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "rng = np.random.RandomState(0)\n"
        "X = rng.normal(size=(200, 4))\n"
        "y = (X @ [1.0, -2.0, 0.5, 0.0] > 0).astype(int)\n"
        "model = LogisticRegression().fit(X, y)\n"
        "pickle.dump(model, open('model.pkl', 'wb'))\n"
        "T = np.array([[((i * 7 + j * 3) % 11) / 5.0 - 1 for j in range(4)] for i in range(32)])\n"
        "open('expected.bin', 'wb').write(model.predict_proba(T)[:, 1].astype('<f8').tobytes())\n");
  auto trained = RunProcess({Python(), "train.py"}, d.path());
  ASSERT_TRUE(trained.ok());
  ASSERT_EQ(trained->exit_code, 0) << trained->err;
  Write(d.path() + "/predict.py",
        "import os, pickle\n"
        "def load(package_dir):\n"
        "    with open(os.path.join(package_dir, 'model.pkl'), 'rb') as f:\n"
        "        return pickle.load(f)\n"
        "def predict(batch, model):\n"
        "    return model.predict_proba(batch['x'])[:, 1]\n");
  auto model = LoadOrDie(Spec(d.path(), {{"x", "FP64", {-1, 4}}}, {{"p", "FP64", {-1}}}));
  ASSERT_NE(model, nullptr);
  std::vector<double> t;
  for (int i = 0; i < 32; i++) {
    for (int j = 0; j < 4; j++) t.push_back(((i * 7 + j * 3) % 11) / 5.0 - 1);
  }
  std::vector<Tensor> out;
  ASSERT_TRUE(model->Predict({Make("x", "FP64", {32, 4}, t)}, &out).ok());
  auto expected = ReadFile(d.path() + "/expected.bin");
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(out[0].data, *expected);  // bit for bit
}

TEST(PythonRuntime, ExceptionInPredictIsAnErrorAndTheWorkerStays) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py",
        "import os\n"
        "def predict(batch):\n"
        "    x = batch['x']\n"
        "    if x.min() < 0: raise ValueError('negative input')\n"
        "    if x.min() > 100: raise RuntimeError('too big')\n"
        "    return {'y': x[:, 0], 'pid': [os.getpid()] * len(x)}\n");
  auto model = LoadOrDie(Spec(d.path(), kX, {{"y", "FP32", {-1}}, {"pid", "INT64", {-1}}}));
  ASSERT_NE(model, nullptr);
  std::vector<Tensor> out;
  ASSERT_TRUE(model->Predict({Features(2, 1)}, &out).ok());
  int64_t pid = Values<int64_t>(out[1])[0];

  Status st = model->Predict({Features(2, -5)}, &out);
  EXPECT_EQ(st.code(), Code::kUser);  // ValueError / TypeError: the caller's input
  EXPECT_NE(st.message().find("ValueError: negative input"), std::string::npos) << st.message();
  st = model->Predict({Features(2, 200)}, &out);
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("RuntimeError: too big"), std::string::npos) << st.message();

  ASSERT_TRUE(model->Predict({Features(2, 1)}, &out).ok());
  EXPECT_EQ(Values<int64_t>(out[1])[0], pid);  // the same process
}

TEST(PythonRuntime, BadInputsAreUserErrors) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py", "def predict(batch):\n    return batch['x'][:, 0]\n");
  auto model = LoadOrDie(Spec(d.path(), kX, {{"y", "FP32", {-1}}}));
  ASSERT_NE(model, nullptr);
  std::vector<Tensor> out;
  Tensor x = Features(2, 0);
  x.data.pop_back();
  EXPECT_EQ(model->Predict({x}, &out).code(), Code::kUser);
  EXPECT_EQ(model->Predict({Make<double>("x", "FP64", {1, 4}, {1, 2, 3, 4})}, &out).code(), Code::kUser);
  EXPECT_EQ(model->Predict({Make<float>("x", "FP32", {1, 3}, {1, 2, 3})}, &out).code(), Code::kUser);
  Status st = model->Predict({}, &out);
  EXPECT_EQ(st.code(), Code::kUser);
  EXPECT_NE(st.message().find("missing input 'x'"), std::string::npos) << st.message();
}

TEST(PythonRuntime, WorkerThatExitsIsReplaced) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py",
        "import os\n"
        "def predict(batch):\n"
        "    if batch['x'][0, 0] == 666: os._exit(3)\n"
        "    return [os.getpid()] * len(batch['x'])\n");
  ModelSpec spec = Spec(d.path(), kX, {{"pid", "INT64", {-1}}});
  spec.workers = 2;
  auto model = LoadOrDie(spec);
  ASSERT_NE(model, nullptr);
  std::vector<Tensor> out;
  ASSERT_TRUE(model->Predict({Features(1, 1)}, &out).ok());
  pid_t first = static_cast<pid_t>(Values<int64_t>(out[0])[0]);

  // Idle workers are taken last-in first-out, so the crash hits `first`.
  Status st = model->Predict({Features(1, 666)}, &out);
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("exited with code 3"), std::string::npos) << st.message();
  EXPECT_NE(::kill(first, 0), 0) << "the dead worker is reaped";

  ASSERT_TRUE(model->Predict({Features(1, 1)}, &out).ok()) << "the other worker serves at once";
  pid_t second = static_cast<pid_t>(Values<int64_t>(out[0])[0]);
  EXPECT_NE(second, first);
  std::set<pid_t> seen;
  // The replacement joins once it has started (python and numpy imported): up to a minute on a
  // loaded machine; the loop ends as soon as it serves.
  for (int i = 0; i < 1200 && seen.size() < 3; i++) {
    ASSERT_TRUE(model->Predict({Features(1, 1)}, &out).ok());
    seen.insert(static_cast<pid_t>(Values<int64_t>(out[0])[0]));
    seen.insert(first);
    seen.insert(second);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(seen.size(), 3u) << "a fresh worker serves";
}

TEST(PythonRuntime, HangingPredictTimesOut) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py",
        "import time\n"
        "def predict(batch):\n"
        "    if batch['x'][0, 0] == 1: time.sleep(30)\n"
        "    return batch['x'][:, 0]\n");
  ModelSpec spec = Spec(d.path(), kX, {{"y", "FP32", {-1}}});
  spec.workers = 2;
  spec.timeout_ms = 500;
  auto model = LoadOrDie(spec);
  ASSERT_NE(model, nullptr);
  std::vector<Tensor> out;
  auto start = std::chrono::steady_clock::now();
  Status st = model->Predict({Features(1, 1)}, &out);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(st.code(), Code::kDeadlineExceeded);  // the server's 504
  EXPECT_NE(st.message().find("longer than 500 ms"), std::string::npos) << st.message();
  EXPECT_LT(s, 10);
  ASSERT_TRUE(model->Predict({Features(1, 2)}, &out).ok());
  EXPECT_EQ(Values<float>(out[0]), std::vector<float>{2});
}

TEST(PythonRuntime, LoadFailuresSayWhatAndWhere) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  auto load_error = [&](const std::string& code) {
    Write(d.path() + "/predict.py", code);
    auto m = LoadPythonModel(Spec(d.path(), kX, {}));
    EXPECT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), Code::kUser);
    EXPECT_NE(m.status().message().find(d.path()), std::string::npos) << m.status().message();
    return m.status().message();
  };
  std::string m = load_error("import no_such_module_here\n");
  EXPECT_NE(m.find("ModuleNotFoundError: No module named 'no_such_module_here'"), std::string::npos) << m;
  m = load_error("def predikt(batch):\n    pass\n");
  EXPECT_NE(m.find("has no function predict"), std::string::npos) << m;
  m = load_error("def load(d):\n    raise FileNotFoundError('model.pkl is gone')\ndef predict(b, s):\n    pass\n");
  EXPECT_NE(m.find("calling load(): FileNotFoundError: model.pkl is gone"), std::string::npos) << m;
  m = load_error("import os\nos._exit(7)\n");
  EXPECT_NE(m.find("exited with code 7 before it was ready"), std::string::npos) << m;

  ModelSpec spec = Spec(d.path(), kX, {});
  spec.python_executable = "/nonexistent/python3";
  auto missing = LoadPythonModel(spec);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kUser);
  EXPECT_NE(missing.status().message().find("'/nonexistent/python3'"), std::string::npos);
  EXPECT_NE(missing.status().message().find("FORJA_PYTHON"), std::string::npos);
}

TEST(PythonRuntime, EverythingPrintedIsPrefixedOnStderr) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py",
        "import os\n"
        "print('from print')\n"
        "os.write(1, b'from fd 1\\n')\n"
        "os.write(2, b'two\\nlines\\n')\n"
        "os.write(2, b'no newline')\n"
        "def predict(batch):\n"
        "    return batch['x'][:, 0]\n");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  {
    auto model = LoadOrDie(Spec(d.path(), kX, {{"y", "FP32", {-1}}}));
    ASSERT_NE(model, nullptr);
  }  // what the workers printed is all copied by the end of destruction
  std::string out = testing::internal::GetCapturedStdout();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  for (const char* line : {"from print", "from fd 1", "two", "lines", "no newline"}) {
    EXPECT_NE(err.find(std::string("[python worker 1] ") + line + "\n"), std::string::npos) << line << " in " << err;
  }
}

TEST(PythonRuntime, ManyThreadsShareTwoWorkers) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py", "def predict(batch):\n    return batch['x'][:, 0] * 2\n");
  ModelSpec spec = Spec(d.path(), kX, {{"y", "FP32", {-1}}});
  spec.workers = 2;
  auto model = LoadOrDie(spec);
  ASSERT_NE(model, nullptr);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; i++) {
        float first = static_cast<float>(t * 1000 + i);
        std::vector<Tensor> out;
        if (!model->Predict({Features(3, first)}, &out).ok()) continue;
        std::vector<float> want = {first * 2, (first + 2) * 2, (first + 4) * 2};
        if (Values<float>(out[0]) == want) good++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 400);
}

// Our children per /proc (zombies included).
std::vector<pid_t> Children() {
  std::vector<pid_t> kids;
  DIR* dir = ::opendir("/proc");
  while (dirent* e = dir != nullptr ? ::readdir(dir) : nullptr) {
    std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    int ppid = 0;
    char state;
    if (std::sscanf(line.c_str() + line.rfind(')') + 1, " %c %d", &state, &ppid) == 2 && ppid == ::getpid()) {
      kids.push_back(std::atoi(e->d_name));
    }
  }
  if (dir != nullptr) ::closedir(dir);
  return kids;
}

size_t OpenFds() {
  size_t n = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dir != nullptr && ::readdir(dir) != nullptr) n++;
  if (dir != nullptr) ::closedir(dir);
  return n;
}

TEST(PythonRuntime, NoZombiesOrFdsLeftAfterDestruction) {
  SKIP_WITHOUT_PYTHON();
  TempDir d;
  Write(d.path() + "/predict.py",
        "import subprocess\n"
        "def load(d):\n"
        "    return subprocess.Popen(['sleep', '60'])  # a grandchild in the worker's group\n"
        "def predict(batch, child):\n"
        "    return batch['x'][:, 0]\n");
  size_t fds = OpenFds();
  ASSERT_TRUE(Children().empty());
  {
    ModelSpec spec = Spec(d.path(), kX, {{"y", "FP32", {-1}}});
    spec.workers = 3;
    auto model = LoadOrDie(spec);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(Children().size(), 3u);
    std::vector<Tensor> out;
    ASSERT_TRUE(model->Predict({Features(2, 0)}, &out).ok());
  }
  EXPECT_TRUE(Children().empty());
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(OpenFds(), fds);
}

}  // namespace
}  // namespace forja::runtime
