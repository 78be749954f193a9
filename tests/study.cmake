# The study of issue 20: generation modes, the published maps' true frame,
# the observations and their statistics (docs/analysis.md, "Observations").
set(STUDY_SRC ${CMAKE_CURRENT_SOURCE_DIR}/study)
set(STUDY_DIR ${CMAKE_CURRENT_BINARY_DIR}/study)

attnmix_script_test(study_generation bash ${STUDY_SRC}/generation_test.sh ${STUDY_DIR}/gen)
attnmix_script_test(study_frame ${ATTNMIX_PYTHON} ${STUDY_SRC}/frame_test.py)
attnmix_script_test(study_resample_ref ${ATTNMIX_PYTHON} ${STUDY_SRC}/resample_ref.py ${CMAKE_BINARY_DIR}/tests/test_resample)
attnmix_script_test(study_observations ${ATTNMIX_PYTHON} ${STUDY_SRC}/observations_test.py)
attnmix_script_test(study_page ${ATTNMIX_PYTHON} ${STUDY_SRC}/page_test.py)
