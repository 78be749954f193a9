# Weight streaming through the stage programs (model/wstream.h): bitwise equal
# outputs under a resident-weights budget, the memory check's refusals.
attnmix_script_test(wstream_stages bash ${CMAKE_CURRENT_SOURCE_DIR}/wstream/stream_test.sh
                    ${CMAKE_CURRENT_BINARY_DIR}/wstream)

# bench/blog-cpu.sh on a reduced setting: the tiny shape, one pair, the
# weights streamed; the report has its row with the streaming noted.
attnmix_script_test(bench_blog_cpu bash ${CMAKE_CURRENT_SOURCE_DIR}/wstream/blog_cpu_test.sh
                    ${CMAKE_CURRENT_BINARY_DIR}/blog-cpu)
