// Writes the seed corpora of the fuzz targets: real block frames, real
// key-value files and line-reader inputs, so that fuzzing starts from valid
// bytes rather than having to discover magics and checksums by chance.
//
//   make_seed_corpus DIR   # writes DIR/<target>/<name> for each target
//
// The output is deterministic; tests/fuzz/corpus holds what it wrote, and
// rerunning it after a format change refreshes the seeds.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "io/buffered_writer.h"
#include "io/file_system.h"
#include "io/status.h"
#include "shuffle/block_codec.h"
#include "shuffle/kv_file.h"
#include "shuffle/serde.h"

namespace sluice {
namespace {

// Matches kv_file_reader_fuzz.cpp, so that its Cereal path starts from bytes
// that decode.
struct Reading {
  std::string sensor;
  std::vector<double> samples;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(sensor, samples);
  }
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "make_seed_corpus: %s\n", what.c_str());
  std::exit(1);
}

void Check(const Status& s) {
  if (!s.ok()) Die(s.ToString());
}

void WriteSeed(const std::string& dir, const std::string& name, std::string_view bytes) {
  Check(FileSystem::Default()->CreateDirs(dir));
  Check(WriteStringToFile(*FileSystem::Default(), dir + "/" + name, bytes));
}

std::string Words(int n) {
  static constexpr std::string_view kWords[] = {"the",  "quick", "brown", "fox",   "jumps",
                                                "over", "lazy",  "dog",   "naïve", ""};
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += kWords[(i * 7 + i / 3) % 10];
    text += i % 11 == 10 ? '\n' : ' ';
  }
  return text;
}

// Bytes that zstd cannot shrink: its raw-block path.
std::string Noise(size_t n) {
  std::string bytes;
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    bytes.push_back(static_cast<char>(x));
  }
  return bytes;
}

void BlockSeeds(const std::string& dir) {
  struct Seed {
    std::string name;
    BlockInfo info;
    std::string raw;
    int level;
  };
  std::string records;
  for (uint64_t i = 0; i < 12; ++i) {
    Encode(&records, std::string_view(Words(static_cast<int>(i) + 1)));
    Encode(&records, i * i);
  }
  const std::vector<Seed> seeds = {
      {"empty", BlockInfo{}, "", 1},
      {"records", BlockInfo{3, 1, 2, 12, 0, 0}, records, 1},
      {"text", BlockInfo{0, 7, 0, 1, 0, 0}, Words(300), 1},
      {"text-level19", BlockInfo{1, 0, 5, 1, 0, 0}, Words(300), 19},
      {"noise", BlockInfo{2, 2, 1, 1, 0, 0}, Noise(300), 1},
  };
  for (const Seed& seed : seeds) {
    BlockEncoder encoder(seed.level);
    std::string frame;
    Check(encoder.Encode(seed.info, seed.raw, &frame));
    WriteSeed(dir, seed.name, frame);
  }
}

// Writes a key-value file of `records` with `block_bytes` per block.
template <class K, class V>
void KvSeed(const std::string& dir, const std::string& name,
            const std::vector<std::pair<K, V>>& records, size_t block_bytes) {
  Check(FileSystem::Default()->CreateDirs(dir));
  Result<std::unique_ptr<WritableFile>> file = FileSystem::Default()->Create(dir + "/" + name);
  Check(file.status());
  BufferedWriter out(std::move(file).value());
  TypedKvFileWriter<K, V> writer(&out, 1, block_bytes);
  for (const auto& [key, value] : records) writer.Add(key, value);
  Check(writer.Finish());
  Check(out.Close());
}

void KvSeeds(const std::string& dir) {
  std::vector<std::pair<std::string, uint64_t>> counts;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::pair<uint64_t, double>> numbers;
  std::vector<std::pair<std::pair<std::string, int32_t>, std::tuple<uint8_t, std::string>>> nested;
  std::vector<std::pair<Reading, std::string>> readings;
  for (int i = 0; i < 20; ++i) {
    counts.emplace_back(Words(i % 4 + 1), static_cast<uint64_t>(i) * 1000);
    pairs.emplace_back(Words(i % 3), Words(i % 5 + 2));
    numbers.emplace_back(uint64_t{1} << (i * 3 % 64), i / 7.0);
    nested.push_back({{Words(1 + i % 2), -i}, {static_cast<uint8_t>(i), Words(i % 3)}});
  }
  for (int i = 0; i < 4; ++i) {
    readings.push_back({{"s" + std::to_string(i), {1.5, -i * 0.25}}, "ok"});
  }
  KvSeed<std::string, uint64_t>(dir, "empty", {}, 1 << 20);
  KvSeed(dir, "counts", counts, 1 << 20);
  KvSeed(dir, "pairs-small-blocks", pairs, 64);
  KvSeed(dir, "numbers", numbers, 100);
  KvSeed(dir, "nested", nested, 200);
  KvSeed(dir, "cereal", readings, 1 << 20);
}

// The header line_reader_fuzz.cpp reads, then the text.
std::string LineSeed(uint8_t flags, uint16_t a, uint16_t b, uint16_t c, std::string_view text) {
  std::string seed(1, static_cast<char>(flags));
  for (uint16_t cut : {a, b, c}) {
    seed.push_back(static_cast<char>(cut & 0xff));
    seed.push_back(static_cast<char>(cut >> 8));
  }
  return seed += text;
}

void LineSeeds(const std::string& dir) {
  const std::string long_line = std::string(1500, 'x') + "\nshort\n" + std::string(200, 'y');
  WriteSeed(dir, "lines", LineSeed(3, 2, 5, 7, "a\nbb\n\nccc\ndddd\n"));
  WriteSeed(dir, "crlf", LineSeed(2, 4, 5, 14, "one\r\ntwo\r\n\r\nthree\r\nfour"));
  WriteSeed(dir, "lone-cr", LineSeed(0, 1, 2, 3, "x\r\r\n\ry\r"));
  WriteSeed(dir, "newlines-only", LineSeed(1, 1, 2, 2, "\n\n\n\n"));
  WriteSeed(dir, "empty", LineSeed(7, 0, 0, 0, ""));
  WriteSeed(dir, "long-line", LineSeed(0, 10, 1499, 1503, long_line));
  WriteSeed(dir, "text-past-eof", LineSeed(64 | 15, 100, 250, 600, Words(200)));
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  if (argc != 2) sluice::Die("usage: make_seed_corpus DIR");
  const std::string dir = argv[1];
  sluice::BlockSeeds(dir + "/block_decoder_fuzz");
  sluice::KvSeeds(dir + "/kv_file_reader_fuzz");
  sluice::LineSeeds(dir + "/line_reader_fuzz");
  return 0;
}
