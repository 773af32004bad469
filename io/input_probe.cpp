#include "io/input_probe.h"

#include <memory>
#include <string_view>

#include "io/compression.h"

namespace sluice {

Status ProbeInputs(FileSystem& fs, uint64_t split_size, std::vector<InputFile>* files) {
  for (InputFile& f : *files) {
    if (f.size == 0) continue;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, fs.OpenForRead(f.path));
    SLUICE_ASSIGN_OR_RETURN(f.compression, DetectCompression(*file));
    // A file that fits in one split is read whole: no need to find where it
    // could be cut.
    if (f.compression != Compression::kNone && f.size > split_size) {
      SLUICE_ASSIGN_OR_RETURN(f.members, IndexMembers(*file, f.compression));
    }
  }
  return Status::OK();
}

Status RefuseCompressedBinaryInputs(FileSystem& fs, const std::vector<InputFile>& files,
                                    const std::string& what) {
  for (const InputFile& f : files) {
    std::string_view name = f.path;
    bool suffix = false;
    for (std::string_view z : {".gz", ".bgz", ".zst", ".zstd", ".bz2", ".xz"}) suffix |= name.ends_with(z);
    if (!suffix || f.size == 0) continue;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, fs.OpenForRead(f.path));
    SLUICE_ASSIGN_OR_RETURN(const Compression c, DetectCompression(*file));
    if (c == Compression::kNone) continue;
    return Status::BadInput("input '" + f.path + "' is " + CompressionName(c) + "-compressed, and this job reads " +
                            what + " as they are, undecoded: decompress it first");
  }
  return Status::OK();
}

}  // namespace sluice
