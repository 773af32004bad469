// Decodes one .gz file with each gzip decoder Sluice could use and prints
// the speed of each, to choose OpenDecoded's (io/decoded_file.cpp):
//   zlib        inflate, streaming, 1 MiB of output at a time
//   isa-l       isal_inflate, streaming, 1 MiB of output at a time
//   libdeflate  libdeflate_gzip_decompress_ex, one whole member per call
//               into a buffer that holds the member (it cannot stream)
//   sluice      OpenDecoded + ReadAt of 1 MiB: the decoder as Sluice runs it
// Each is run `runs` times from memory (the file is read once first); the
// median MB/s of decoded bytes is printed, by wall clock and by CPU time,
// with its ratio to zlib's. Each
// decoder's output is checked against zlib's (xxh3 of all decoded bytes) in
// one more, untimed, run. For a BGZF file it also times IndexMembers.
//
//   sluice-gunzip-bench FILE.gz [RUNS]      (RUNS: default 3)
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <xxhash.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/compression.h"
#include "io/decoded_file.h"
#include "io/file_system.h"

namespace {

constexpr size_t kOutBytes = size_t{1} << 20;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sluice-gunzip-bench: %s\n", what.c_str());
  std::exit(1);
}

// Where the decoded bytes go: counted, and hashed when checking.
struct Sink {
  XXH3_state_t* hash = nullptr;  // null: timing run
  uint64_t bytes = 0;
  void Take(const uint8_t* p, size_t n) {
    bytes += n;
    if (hash != nullptr) XXH3_64bits_update(hash, p, n);
  }
};

void Zlib(std::string_view gz, Sink& sink) {
  static std::vector<uint8_t> out(kOutBytes);
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) Die("inflateInit2");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  while (true) {
    z.next_out = out.data();
    z.avail_out = out.size();
    const int r = inflate(&z, Z_NO_FLUSH);
    sink.Take(out.data(), out.size() - z.avail_out);
    if (r == Z_STREAM_END) {
      if (z.avail_in == 0) break;
      inflateReset(&z);  // the next member
    } else if (r != Z_OK) {
      Die(std::string("zlib: ") + (z.msg ? z.msg : "error"));
    }
  }
  inflateEnd(&z);
}

void Isal(std::string_view gz, Sink& sink) {
  static std::vector<uint8_t> out(kOutBytes);
  auto state = std::make_unique<inflate_state>();
  isal_inflate_init(state.get());
  state->crc_flag = ISAL_GZIP;
  state->next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(gz.data()));
  state->avail_in = static_cast<uint32_t>(gz.size());
  while (true) {
    state->next_out = out.data();
    state->avail_out = out.size();
    if (isal_inflate(state.get()) != ISAL_DECOMP_OK) Die("isal_inflate failed");
    sink.Take(out.data(), out.size() - state->avail_out);
    if (state->block_state == ISAL_BLOCK_FINISH) {
      if (state->avail_in == 0) break;
      uint8_t* next = state->next_in;
      const uint32_t avail = state->avail_in;
      isal_inflate_reset(state.get());
      state->crc_flag = ISAL_GZIP;
      state->next_in = next;
      state->avail_in = avail;
    }
  }
}

void Libdeflate(std::string_view gz, Sink& sink) {
  // Grown to the largest member, then reused: what a BGZF reader would do.
  static std::vector<uint8_t> out(kOutBytes);
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  const uint8_t* in = reinterpret_cast<const uint8_t*>(gz.data());
  size_t left = gz.size();
  while (left > 0) {
    size_t in_used = 0, out_made = 0;
    const libdeflate_result r =
        libdeflate_gzip_decompress_ex(d, in, left, out.data(), out.size(), &in_used, &out_made);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
      out.resize(out.size() * 2);
      continue;
    }
    if (r != LIBDEFLATE_SUCCESS) Die("libdeflate failed: " + std::to_string(r));
    sink.Take(out.data(), out_made);
    in += in_used;
    left -= in_used;
  }
  libdeflate_free_decompressor(d);
}

void Sluice(const std::string& path, Sink& sink) {
  auto file = sluice::FileSystem::Default()->OpenForRead(path);
  if (!file.ok()) Die(file.status().ToString());
  auto decoded = sluice::OpenDecoded(std::move(file).value(), sluice::Compression::kGzip, {});
  static std::vector<char> out(kOutBytes);
  for (uint64_t at = 0;;) {
    size_t got = 0;
    const sluice::Status s = decoded->ReadAt(at, out.size(), out.data(), &got);
    if (!s.ok()) Die(s.ToString());
    sink.Take(reinterpret_cast<const uint8_t*>(out.data()), got);
    at += got;
    if (got < out.size()) break;
  }
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Wall-clock and CPU seconds of fn(). On a shared machine the CPU time is
// the steadier figure: it leaves out the time other processes held the core.
struct Times {
  double wall = 0;
  double cpu = 0;
};
Times Measure(const std::function<void()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  fn();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          CpuSeconds() - cpu_start};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) Die("usage: sluice-gunzip-bench FILE.gz [RUNS]");
  const std::string path = argv[1];
  const int runs = argc == 3 ? std::atoi(argv[2]) : 3;
  if (runs < 1) Die("RUNS must be at least 1");
  sluice::FileSystem& fs = *sluice::FileSystem::Default();
  auto whole = sluice::ReadFileToString(fs, path);
  if (!whole.ok()) Die(whole.status().ToString());
  const std::string_view gz = whole.value();

  struct Decoder {
    const char* name;
    std::function<void(Sink&)> run;
  };
  const std::vector<Decoder> decoders = {
      {"zlib", [&](Sink& s) { Zlib(gz, s); }},
      {"isa-l", [&](Sink& s) { Isal(gz, s); }},
      {"libdeflate", [&](Sink& s) { Libdeflate(gz, s); }},
      {"sluice", [&](Sink& s) { Sluice(path, s); }},
  };

  // The check first: it also warms the page cache and every buffer.
  uint64_t want_hash = 0, want_bytes = 0;
  for (const Decoder& d : decoders) {
    Sink sink;
    sink.hash = XXH3_createState();
    XXH3_64bits_reset(sink.hash);
    d.run(sink);
    const uint64_t hash = XXH3_64bits_digest(sink.hash);
    XXH3_freeState(sink.hash);
    if (&d == &decoders.front()) {
      want_hash = hash;
      want_bytes = sink.bytes;
    } else if (hash != want_hash || sink.bytes != want_bytes) {
      Die(std::string(d.name) + " decodes to other bytes than zlib");
    }
  }

  std::printf("%s: %zu bytes gzip, %llu decoded, median of %d runs\n", path.c_str(), gz.size(),
              static_cast<unsigned long long>(want_bytes), runs);
  std::printf("  %-11s %10s %11s %10s %11s\n", "decoder", "wall MB/s", "wall ratio", "CPU MB/s",
              "CPU ratio");
  double zlib_wall = 0, zlib_cpu = 0;
  for (const Decoder& d : decoders) {
    std::vector<double> wall, cpu;
    for (int i = 0; i < runs; ++i) {
      Sink sink;
      const Times t = Measure([&] { d.run(sink); });
      wall.push_back(want_bytes / 1e6 / t.wall);
      cpu.push_back(want_bytes / 1e6 / t.cpu);
    }
    const double w = Median(wall), c = Median(cpu);
    if (zlib_wall == 0) zlib_wall = w, zlib_cpu = c;
    std::printf("  %-11s %10.1f %10.2fx %10.1f %10.2fx\n", d.name, w, w / zlib_wall, c,
                c / zlib_cpu);
  }

  auto file = fs.OpenForRead(path);
  if (!file.ok()) Die(file.status().ToString());
  std::vector<sluice::MemberStart> members;
  const Times index = Measure([&] {
    auto m = sluice::IndexMembers(*file.value(), sluice::Compression::kGzip);
    if (!m.ok()) Die(m.status().ToString());
    members = std::move(m).value();
  });
  if (!members.empty()) {
    std::printf("  IndexMembers: %zu BGZF blocks in %.1f ms (%.1f ms CPU)\n", members.size() - 1,
                index.wall * 1e3, index.cpu * 1e3);
  }
  return 0;
}
