include(${CMAKE_CURRENT_LIST_DIR}/SluiceJobEntries.cmake)

# sluice_add_job(NAME SOURCE...)
#
# Compiles the job's sources once (NAME_objects) and links them three ways:
#   NAME_job     object library that registers the job (linked into `sluice`)
#   NAME         job binary:  ./NAME [flags] INPUT... OUTPUT
#   NAME_plugin  plugin libNAME.so for `sluice run --plugin`
# The plugin carries the job's own engine code (templates), so it pays no
# per-record indirection through the host. The objects are position
# independent (CMAKE_POSITION_INDEPENDENT_CODE) with hidden visibility, as a
# plugin needs; in an executable neither costs anything, since nothing there
# is exported or interposed.
function(sluice_add_job name)
  set(sources ${ARGN})
  sluice_job_entry_sources(${name} register_source plugin_entry_source)

  add_library(${name}_objects OBJECT ${sources})
  target_compile_definitions(${name}_objects PRIVATE SLUICE_JOB_ID=${SLUICE_JOB_ENTRY_ID})
  target_link_libraries(${name}_objects PUBLIC sluice_job_api)
  set_target_properties(${name}_objects PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)

  add_library(${name}_job OBJECT ${register_source})
  target_link_libraries(${name}_job PUBLIC sluice_job_api)

  add_executable(${name} $<TARGET_OBJECTS:${name}_objects> $<TARGET_OBJECTS:${name}_job>)
  target_link_libraries(${name} PRIVATE sluice_main_job sluice_runtime)

  add_library(${name}_plugin MODULE $<TARGET_OBJECTS:${name}_objects> ${plugin_entry_source})
  target_link_libraries(${name}_plugin PRIVATE sluice_job_api)
  # Only the entry point is exported; everything else stays private to the
  # .so, the static io/ and shuffle/ libraries' symbols too (--exclude-libs).
  target_link_options(${name}_plugin PRIVATE -Wl,--exclude-libs,ALL)
  set_target_properties(${name}_plugin PROPERTIES
    OUTPUT_NAME ${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  set_property(GLOBAL APPEND PROPERTY SLUICE_BUILTIN_JOBS ${name}_objects ${name}_job)
endfunction()
