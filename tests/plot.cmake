# attnmix-plot: CLI behaviour, formats, determinism across runs, the report page.
attnmix_script_test(plot_cli ${ATTNMIX_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/plot/test_cli.py)
# The report opened in headless Chromium: every <img> must load. Skipped
# (with a notice) only where chromium is not installed.
attnmix_script_test(plot_report_browser ${ATTNMIX_PYTHON}
  ${CMAKE_CURRENT_SOURCE_DIR}/plot/test_report_browser.py)
set_tests_properties(plot_report_browser PROPERTIES SKIP_RETURN_CODE 77)
