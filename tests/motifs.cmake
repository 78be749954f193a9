# Motif features, truncated PCA, head distances and average-linkage clusters of
# attnmix-analyze against numpy/scipy/sklearn (tools/analysis_ref.py).
attnmix_script_test(analysis_motifs ${ATTNMIX_PYTHON} ${CMAKE_SOURCE_DIR}/tests/motifs/test_motifs.py)
# The analysis figures (head distances by cluster, one layer per pair key,
# layer colour bar, summary-pairs, --scale row) and the report's analysis part.
attnmix_script_test(plot_analysis_figures ${ATTNMIX_PYTHON} ${CMAKE_SOURCE_DIR}/tests/motifs/test_figures.py)
