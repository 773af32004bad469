#include "io/input_probe.h"

#include <memory>

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

}  // namespace sluice
