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
  sluice_job_entry_sources(${name} register_source plugin_entry_source)

  # Position independent for the plugin, hidden for the same reason: only
  # the entry point leaves the .so. Neither costs the job binary anything.
  add_library(${name}_objects OBJECT ${sources})
  target_compile_definitions(${name}_objects PRIVATE SLUICE_JOB_ID=${SLUICE_JOB_ENTRY_ID})
  target_link_libraries(${name}_objects PUBLIC Sluice::sluice_job_api)
  set_target_properties(${name}_objects PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)

  add_executable(${name} $<TARGET_OBJECTS:${name}_objects> ${register_source})
  target_link_libraries(${name} PRIVATE Sluice::sluice_main_job Sluice::sluice_runtime)

  add_library(${name}_plugin MODULE $<TARGET_OBJECTS:${name}_objects> ${plugin_entry_source})
  target_link_libraries(${name}_plugin PRIVATE Sluice::sluice_job_api)
  # Only the entry point is exported: the static libraries' symbols stay
  # private to the .so too.
  target_link_options(${name}_plugin PRIVATE -Wl,--exclude-libs,ALL)
  set_target_properties(${name}_plugin PROPERTIES
    OUTPUT_NAME ${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
endfunction()
