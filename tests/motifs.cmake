# Motif features, truncated PCA, head distances and average-linkage clusters of
# attnmix-analyze against numpy/scipy/sklearn (tools/analysis_ref.py).
attnmix_script_test(analysis_motifs ${ATTNMIX_PYTHON} ${CMAKE_SOURCE_DIR}/tests/motifs/test_motifs.py)
