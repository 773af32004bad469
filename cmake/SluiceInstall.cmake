# `cmake --install BUILD --prefix PREFIX` lays out the SDK:
#   PREFIX/bin/sluice                      the command, with the built-in jobs
#   PREFIX/include/sluice/*.h               the public job API, <sluice/job.h>
#   PREFIX/include/sluice/detail/           the engine a job compiles in, and
#                                          the io/ and shuffle/ headers it uses
#   PREFIX/lib/libsluice_*.a, PREFIX/lib/sluice/  (libraries, main() of job binaries)
#   PREFIX/lib/cmake/Sluice/               the package: find_package(Sluice)
# so that a job outside this tree builds with
#   find_package(Sluice REQUIRED)
#   sluice_add_job(myjob myjob.cpp)
# (docs/sdk.md; examples/myjob; checked by scripts/sdk-example).
include(CMakePackageConfigHelpers)

set(SLUICE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Sluice)

# The public API and the engine under it, as in runtime/include/. The io/
# and shuffle/ headers the engine reaches go under detail/ (the installed
# io/shuffle targets name that folder), keeping the folder names they are
# included by. The driver's, the command line's and cluster/'s headers are
# not installed: nothing a job compiles needs them.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
foreach(module io shuffle)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${module}/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sluice/detail/${module}
    FILES_MATCHING PATTERN "*.h")
endforeach()

# The plugin ABI hash, generated from the boundary headers at configure time
# (runtime/CMakeLists.txt): jobs built against this install carry the same
# hash as the installed `sluice`, which refuses any other.
install(FILES ${SLUICE_GENERATED_INCLUDE_DIR}/sluice/detail/plugin_abi_hash.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sluice/detail)
install(FILES ${SLUICE_GENERATED_INCLUDE_DIR}/sluice/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sluice)

# sluice_main_job stays an OBJECT library: its object holds main(), and a
# main() inside a static archive would be linked only by luck of order.
install(TARGETS
    sluice_io sluice_shuffle sluice_cluster sluice_runtime
    sluice_job_api sluice_main_job sluice sluice-command-guard
  EXPORT SluiceTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  OBJECTS DESTINATION ${CMAKE_INSTALL_LIBDIR}/sluice)
install(EXPORT SluiceTargets
  NAMESPACE Sluice::
  DESTINATION ${SLUICE_INSTALL_CMAKEDIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/SluiceConfig.cmake.in
  ${PROJECT_BINARY_DIR}/SluiceConfig.cmake
  INSTALL_DESTINATION ${SLUICE_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the plugin ABI (<sluice/plugin_api.h>).
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/SluiceConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
    ${PROJECT_BINARY_DIR}/SluiceConfig.cmake
    ${PROJECT_BINARY_DIR}/SluiceConfigVersion.cmake
    ${PROJECT_SOURCE_DIR}/cmake/SluiceJobInstalled.cmake
    ${PROJECT_SOURCE_DIR}/cmake/SluiceJobEntries.cmake
  DESTINATION ${SLUICE_INSTALL_CMAKEDIR})
