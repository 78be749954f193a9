# Researcher access (docs/python.md): token strings in the cube and tokens.h5,
# every group of analysis.h5 in xarray and pandas, the Python package
# tools/python installed with pip and used from Debian's python3, progress
# lines in logs.
set(RES_SRC ${CMAKE_CURRENT_SOURCE_DIR}/researcher)
set(RES_DIR ${CMAKE_CURRENT_BINARY_DIR}/researcher)

attnmix_script_test(researcher_run bash ${RES_SRC}/run.sh ${RES_DIR})
set_tests_properties(researcher_run PROPERTIES FIXTURES_SETUP researcher_out)
attnmix_script_test(researcher_tokens ${ATTNMIX_PYTHON} ${RES_SRC}/check_tokens.py ${RES_DIR})
attnmix_script_test(researcher_xarray ${ATTNMIX_PYTHON} ${RES_SRC}/check_xarray.py ${RES_DIR})
attnmix_script_test(researcher_python_package bash ${RES_SRC}/package_test.sh ${RES_DIR})
set_tests_properties(researcher_tokens researcher_xarray researcher_python_package PROPERTIES
  FIXTURES_REQUIRED researcher_out)
attnmix_script_test(researcher_merge_tokens ${ATTNMIX_PYTHON} ${RES_SRC}/merge_tokens.py ${RES_DIR}/merge)
