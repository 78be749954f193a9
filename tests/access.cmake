# Researcher access: hub ids in the Hugging Face cache, chat templates, the
# interactive viewer (attnmix view) in headless Chromium.
set(ACCESS_SRC ${CMAKE_CURRENT_SOURCE_DIR}/access)
set(ACCESS_DIR ${CMAKE_CURRENT_BINARY_DIR}/access)

attnmix_script_test(access_hub_template bash ${ACCESS_SRC}/hub_template_test.sh ${ACCESS_DIR}/run)
set_tests_properties(access_hub_template PROPERTIES FIXTURES_SETUP access_out)

# The viewer in headless Chromium (Debian's chromium, playwright-core from npm).
attnmix_script_test(access_view bash ${ACCESS_SRC}/view_test.sh ${ACCESS_DIR}/view ${ACCESS_DIR}/run/out)
set_tests_properties(access_view PROPERTIES FIXTURES_REQUIRED access_out
  ENVIRONMENT "${ATTNMIX_TEST_ENV};ATTNMIX_BROWSER_MODULES=${ATTNMIX_DEPS}/npm-browser/node_modules")
