// A shared library that is not a Sluice plugin: no entry point.
extern "C" __attribute__((visibility("default"))) int not_a_sluice_plugin() { return 42; }
