// A plugin built for another plugin ABI: the host must refuse it.
#include <sluice/plugin_api.h>

extern "C" __attribute__((visibility("default"))) const SluicePluginDescriptor*
sluice_plugin_descriptor() {
  static const SluicePluginDescriptor kDescriptor = {sluice::kSluiceAbiVersion + 998,
                                                      __GXX_ABI_VERSION,
                                                      sluice::kSluiceAbiHeadersHash,
                                                      "wrong_abi",
                                                      "built for another ABI",
                                                      nullptr,
                                                      nullptr};
  return &kDescriptor;
}
