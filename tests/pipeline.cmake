# The staged pipeline end to end on a tiny synthetic checkpoint.
set(PIPE_SRC ${CMAKE_CURRENT_SOURCE_DIR}/pipeline)
set(PIPE_DIR ${CMAKE_CURRENT_BINARY_DIR}/pipeline)

attnmix_script_test(pipeline_stages bash ${PIPE_SRC}/stages_test.sh ${PIPE_DIR})
set_tests_properties(pipeline_stages PROPERTIES FIXTURES_SETUP pipeline_cube)

attnmix_script_test(pipeline_cube_contract ${ATTNMIX_PYTHON} ${PIPE_SRC}/check_cube.py ${PIPE_DIR}/out ${PIPE_DIR}/pipe.yaml)
set_tests_properties(pipeline_cube_contract PROPERTIES FIXTURES_REQUIRED pipeline_cube)
set_tests_properties(test_cube_direct PROPERTIES FIXTURES_REQUIRED pipeline_cube)

attnmix_script_test(pipeline_golden_headers bash ${PIPE_SRC}/golden_test.sh ${PIPE_DIR})
set_tests_properties(pipeline_golden_headers PROPERTIES FIXTURES_REQUIRED pipeline_cube)

attnmix_script_test(pipeline_kill bash ${PIPE_SRC}/kill_test.sh ${PIPE_DIR}/kill)
attnmix_script_test(pipeline_run bash ${PIPE_SRC}/run_test.sh ${PIPE_DIR}/run)
attnmix_script_test(pipeline_makefile bash ${PIPE_SRC}/makefile_test.sh ${PIPE_DIR}/makefile)
