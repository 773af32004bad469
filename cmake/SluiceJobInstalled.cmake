# sluice_add_job(NAME SOURCE...) for a job built against an installed Sluice
# (find_package(Sluice) includes this file). The in-tree twin, which also
# registers the job into `sluice`, is cmake/SluiceJob.cmake.
#
# Compiles the job's sources once (NAME_objects) and links them two ways:
#   NAME         job binary:  ./NAME [flags] INPUT... OUTPUT
#   NAME_plugin  plugin libNAME.so for `sluice run --plugin /abs/path/libNAME.so`
# The plugin carries the job's own engine code (templates), so it pays no
# per-record indirection through the host. It must be built with the same
# compiler as the installed `sluice`, which refuses another C++ ABI.
include(${CMAKE_CURRENT_LIST_DIR}/SluiceJobEntries.cmake)

function(sluice_add_job name)
  set(sources ${ARGN})
  if(NOT sources)
    message(FATAL_ERROR "sluice_add_job(${name}): no source files given")
  endif()
  sluice_add_job_objects_and_plugin(${name} Sluice::sluice_job_api register_source ${sources})

  add_executable(${name} $<TARGET_OBJECTS:${name}_objects> ${register_source})
  target_link_libraries(${name} PRIVATE Sluice::sluice_main_job Sluice::sluice_runtime)
endfunction()
