# Frozen attention patterns through the stages (tests/freeze/).
attnmix_script_test(freeze_stages bash ${CMAKE_CURRENT_SOURCE_DIR}/freeze/stages_freeze.sh ${CMAKE_CURRENT_BINARY_DIR}/freeze)
# Head classes on the hand-set circuit checkpoint (maps from the numpy reference).
attnmix_script_test(head_classes ${ATTNMIX_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/freeze/head_classes_test.py ${CMAKE_CURRENT_BINARY_DIR}/freeze)
