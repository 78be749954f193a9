# attnmix-analyze against the numpy/scipy reference (tools/analysis_ref.py),
# and t-SNE against scikit-learn.
attnmix_script_test(analysis_stats ${ATTNMIX_PYTHON} ${CMAKE_SOURCE_DIR}/tests/analysis/test_analyze.py)
attnmix_script_test(analysis_tsne_sklearn ${ATTNMIX_PYTHON} ${CMAKE_SOURCE_DIR}/tests/analysis/test_tsne_sklearn.py)
