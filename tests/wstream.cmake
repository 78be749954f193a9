# Weight streaming through the stage programs (model/wstream.h): bitwise equal
# outputs under a resident-weights budget, the memory check's refusals.
attnmix_script_test(wstream_stages bash ${CMAKE_CURRENT_SOURCE_DIR}/wstream/stream_test.sh
                    ${CMAKE_CURRENT_BINARY_DIR}/wstream)
