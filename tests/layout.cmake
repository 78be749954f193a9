# The layering of the libraries (tests/layout/check_layers.sh): each library's
# am_* links, read from the targets, against the symbols in its archive.
set(ATTNMIX_LAYER_ARGS)
foreach(lib ${ATTNMIX_LIBRARIES})
  get_target_property(deps ${lib} LINK_LIBRARIES)
  set(am_deps)
  foreach(d ${deps})
    if(d MATCHES "^am_")
      list(APPEND am_deps ${d})
    endif()
  endforeach()
  string(REPLACE ";" "," am_deps "${am_deps}")
  list(APPEND ATTNMIX_LAYER_ARGS "${lib}=$<TARGET_FILE:${lib}>=${am_deps}")
endforeach()
attnmix_script_test(layout_layers ${CMAKE_CURRENT_SOURCE_DIR}/layout/check_layers.sh ${ATTNMIX_LAYER_ARGS})

# The sources are in the house style of .clang-format (tools/format.sh; skipped
# without clang-format 14).
attnmix_script_test(layout_format ${CMAKE_SOURCE_DIR}/tools/format.sh --check)
set_tests_properties(layout_format PROPERTIES SKIP_RETURN_CODE 77)
