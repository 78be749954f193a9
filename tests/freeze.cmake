# Frozen attention patterns through the stages (tests/freeze/).
attnmix_script_test(freeze_stages bash ${CMAKE_CURRENT_SOURCE_DIR}/freeze/stages_freeze.sh ${CMAKE_CURRENT_BINARY_DIR}/freeze)
