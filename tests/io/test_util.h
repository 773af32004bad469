// Real temporary directories and files for the io/ tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <string_view>

#include "io/file_system.h"

namespace sluice::iotest {

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sluice-io-test-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    if (p == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = p ? p : "/tmp";
  }
  ~TempDir() { EXPECT_TRUE(FileSystem::Default()->RemoveAll(path_).ok()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + rel
  std::string Sub(std::string_view rel) const { return path_ + "/" + std::string(rel); }

 private:
  std::string path_;
};

// Writes a file (creating parent directories) or fails the test.
inline void WriteFile(const std::string& path, std::string_view data) {
  FileSystem* fs = FileSystem::Default();
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    ASSERT_TRUE(fs->CreateDirs(path.substr(0, slash)).ok()) << path;
  }
  Status s = WriteStringToFile(*fs, path, data);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// Reads a whole file; false (and nothing said) when it cannot be read.
inline bool TryRead(const std::string& path, std::string* out) {
  Result<std::string> data = ReadFileToString(*FileSystem::Default(), path);
  if (!data.ok()) return false;
  *out = std::move(data).value();
  return true;
}

}  // namespace sluice::iotest
