# The induction stage (attnmix-induction) on the hand-set circuit checkpoint:
# the file's contract, the known induction head, the up-to-date rerun.
attnmix_script_test(induction_stage ${ATTNMIX_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/induction/induction_test.py
  ${CMAKE_CURRENT_BINARY_DIR}/induction)
