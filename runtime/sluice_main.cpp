#include "runtime/cli.h"

int main(int argc, char** argv) { return sluice::SluiceMain(argc, argv); }
