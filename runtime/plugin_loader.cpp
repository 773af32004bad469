#include "runtime/plugin_loader.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <string>

namespace sluice {
namespace {

Status CheckNotWritableByOthers(const std::string& path, const char* what) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Status::Usage("plugin '" + path + "': " + what + " cannot be examined");
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return Status::Usage("plugin '" + path + "': refusing to load, its " + what +
                         " is writable by group or others (chmod go-w)");
  }
  return Status::OK();
}

}  // namespace

Result<LoadedPlugin> LoadPlugin(const std::string& path) {
  if (path.find('/') == std::string::npos) {
    return Status::Usage("plugin '" + path + "': give a path containing '/' (e.g. ./" + path +
                         "); the library search path is never used");
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::Usage("plugin '" + path + "' does not exist");
  if (!S_ISREG(st.st_mode)) return Status::Usage("plugin '" + path + "' is not a regular file");
  SLUICE_RETURN_IF_ERROR(CheckNotWritableByOthers(path, "file"));
  std::string dir = path.substr(0, path.find_last_of('/'));
  SLUICE_RETURN_IF_ERROR(CheckNotWritableByOthers(dir.empty() ? "/" : dir, "folder"));

  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return Status::Usage("plugin '" + path + "' cannot be loaded: " + (err ? err : "unknown error"));
  }
  auto entry = reinterpret_cast<SluicePluginEntry>(dlsym(handle, SLUICE_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) {
    dlclose(handle);
    return Status::Usage("plugin '" + path + "' is not a Sluice job plugin: it does not export " +
                         SLUICE_PLUGIN_ENTRY_SYMBOL + " (end the job source with SLUICE_JOB and "
                         "build it with sluice_add_job)");
  }
  const SluicePluginDescriptor* d = entry();
  if (d == nullptr || d->abi_version != kSluiceAbiVersion) {
    uint32_t got = d ? d->abi_version : 0;
    dlclose(handle);
    return Status::Usage("plugin '" + path + "' was built for Sluice plugin ABI " +
                         std::to_string(got) + ", this sluice speaks ABI " +
                         std::to_string(kSluiceAbiVersion) + ": rebuild the plugin against this Sluice");
  }
  if (d->cxx_abi != __GXX_ABI_VERSION) {
    dlclose(handle);
    return Status::Usage("plugin '" + path + "' was built with C++ ABI " + std::to_string(d->cxx_abi) +
                         ", this sluice with " + std::to_string(__GXX_ABI_VERSION) +
                         ": rebuild it with the same compiler");
  }
  if (d->name == nullptr || d->create == nullptr) {
    dlclose(handle);
    return Status::Usage("plugin '" + path + "' has an incomplete descriptor (no name or factory)");
  }
  LoadedPlugin p;
  p.entry = JobEntry{d->name, d->description ? d->description : "", d->create};
  p.path = path;
  p.handle = handle;
  return p;
}

}  // namespace sluice
