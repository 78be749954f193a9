# The mix modes of embed-mix (linear | slerp | norm) against numpy.
attnmix_script_test(mix_modes ${ATTNMIX_PYTHON} ${CMAKE_SOURCE_DIR}/tests/mix/test_mix_modes.py)
