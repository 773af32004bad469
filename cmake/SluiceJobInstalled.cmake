# sluice_add_job(NAME SOURCE...) for a job built against an installed Sluice
# (find_package(Sluice) includes this file). The in-tree twin, which also
# registers the job into `sluice`, is cmake/SluiceJob.cmake.
#
# Builds one job source two ways:
#   NAME         job binary:  ./NAME [flags] INPUT... OUTPUT
#   NAME_plugin  plugin libNAME.so for `sluice run --plugin /abs/path/libNAME.so`
# The plugin carries the job's own engine code (templates), so it pays no
# per-record indirection through the host. It must be built with the same
# compiler as the installed `sluice`, which refuses another C++ ABI.
function(sluice_add_job name)
  set(sources ${ARGN})
  if(NOT sources)
    message(FATAL_ERROR "sluice_add_job(${name}): no source files given")
  endif()

  add_executable(${name} ${sources})
  target_link_libraries(${name} PRIVATE Sluice::sluice_main_job Sluice::sluice_runtime)

  add_library(${name}_plugin MODULE ${sources})
  target_compile_definitions(${name}_plugin PRIVATE SLUICE_BUILDING_PLUGIN)
  target_link_libraries(${name}_plugin PRIVATE Sluice::sluice_job_api)
  # Only the entry point is exported; everything else stays private to the .so.
  set_target_properties(${name}_plugin PROPERTIES
    OUTPUT_NAME ${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
