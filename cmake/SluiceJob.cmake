# sluice_add_job(NAME SOURCE...)
#
# Builds one job source three ways:
#   NAME_job     object library that registers the job (linked into `sluice`)
#   NAME         job binary:  ./NAME [flags] INPUT... OUTPUT
#   NAME_plugin  plugin libNAME.so for `sluice run --plugin`
# The plugin carries the job's own engine code (templates), so it pays no
# per-record indirection through the host.
function(sluice_add_job name)
  set(sources ${ARGN})
  add_library(${name}_job OBJECT ${sources})
  target_link_libraries(${name}_job PUBLIC sluice_job_api)

  add_executable(${name} $<TARGET_OBJECTS:${name}_job>)
  target_link_libraries(${name} PRIVATE sluice_main_job sluice_runtime)

  add_library(${name}_plugin MODULE ${sources})
  target_compile_definitions(${name}_plugin PRIVATE SLUICE_BUILDING_PLUGIN)
  target_link_libraries(${name}_plugin PRIVATE sluice_job_api)
  # Only the entry point is exported; everything else stays private to the .so.
  set_target_properties(${name}_plugin PROPERTIES
    OUTPUT_NAME ${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  set_property(GLOBAL APPEND PROPERTY SLUICE_BUILTIN_JOBS ${name}_job)
endfunction()
