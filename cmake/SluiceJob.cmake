include(${CMAKE_CURRENT_LIST_DIR}/SluiceJobEntries.cmake)

# sluice_add_job(NAME SOURCE...)
#
# Compiles the job's sources once (NAME_objects) and links them three ways:
#   NAME_job     object library that registers the job (linked into `sluice`)
#   NAME         job binary:  ./NAME [flags] INPUT... OUTPUT
#   NAME_plugin  plugin libNAME.so for `sluice run --plugin`
# The plugin carries the job's own engine code (templates), so it pays no
# per-record indirection through the host.
function(sluice_add_job name)
  sluice_add_job_objects_and_plugin(${name} sluice_job_api register_source ${ARGN})

  add_library(${name}_job OBJECT ${register_source})
  target_link_libraries(${name}_job PUBLIC sluice_job_api)

  add_executable(${name} $<TARGET_OBJECTS:${name}_objects> $<TARGET_OBJECTS:${name}_job>)
  target_link_libraries(${name} PRIVATE sluice_main_job sluice_runtime)

  set_property(GLOBAL APPEND PROPERTY SLUICE_BUILTIN_JOBS ${name}_objects ${name}_job)
endfunction()
