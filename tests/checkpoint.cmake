# Checkpoint round trips between the C loader/writer and independent numpy code.
add_executable(checkpoint-dump ${CMAKE_CURRENT_SOURCE_DIR}/checkpoint/ckpt_dump.c)
set_target_properties(checkpoint-dump PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
target_link_libraries(checkpoint-dump PRIVATE ${ATTNMIX_LIBRARIES})

foreach(mode ref tool cli)
  attnmix_script_test(checkpoint_${mode}
    ${ATTNMIX_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/checkpoint/roundtrip.py ${mode}
    $<TARGET_FILE:checkpoint-dump>)
endforeach()
